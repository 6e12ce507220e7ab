// Package redistest gives tests a real Redis, never a mock: the one named
// by the REDIS_URL environment variable when it is set, otherwise a private
// redis-server started from PATH on a free loopback port. When neither is
// possible the test is skipped, or fails when the CI environment variable
// is set (CI must always test against Redis).
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// unavailable skips t, or fails it under CI.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("redistest: no Redis under CI: %s", why)
	}
	t.Skipf("redistest: no Redis (%s); set REDIS_URL or install redis-server", why)
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// URL returns the URL of a Redis for t: REDIS_URL when set, else one
// redis-server shared by the tests of this process (started on first use,
// stopped by Stop or when the process exits). Isolate tests with Name.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	shared.once.Do(func() {
		// No persistence and no log file: the server writes nothing, so
		// nothing is left behind when the process exits without Stop.
		shared.srv, shared.err = start(Options{Dir: os.TempDir(), discardLog: true})
	})
	if shared.err != nil {
		unavailable(t, shared.err.Error())
	}
	return shared.srv.URL()
}

// Stop stops the shared redis-server, if one was started. Call it from
// TestMain after m.Run.
func Stop() {
	if shared.srv != nil {
		shared.srv.Kill()
	}
}

// Client returns a client for URL(t), closed when t ends.
func Client(t testing.TB) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(URL(t))
	if err != nil {
		t.Fatalf("redistest: REDIS_URL: %v", err)
	}
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

// Name returns a crawl name unique to this test run, to isolate tests that
// share one Redis by key prefix.
func Name(t testing.TB) string {
	base := strings.NewReplacer("/", "_", " ", "_", "{", "", "}", "").Replace(t.Name())
	return fmt.Sprintf("test-%s-%x", base, rand.Uint64())
}

// Options configures a private server.
type Options struct {
	// Dir is the server's working directory (its append-only file lives
	// there). Empty means a temporary directory removed when the test ends.
	Dir string
	// AppendOnly turns persistence on (appendonly yes, fsync every write),
	// so that data survives Kill and Restart.
	AppendOnly bool
	// Password, when set, is required from clients (requirepass).
	Password string
	// MaxmemoryPolicy, when set, is the server's maxmemory-policy
	// (allkeys-lru, say). Empty means Redis's default, noeviction.
	MaxmemoryPolicy string

	cluster    bool // a cluster node (StartCluster)
	discardLog bool // no log file
}

// Server is a redis-server process owned by a test.
type Server struct {
	Addr string // host:port on 127.0.0.1
	opts Options
	cmd  *exec.Cmd
	mu   sync.Mutex
}

// Start starts a private redis-server for t on a free loopback port and
// kills it when t ends. It is for tests that stop or restart Redis; others
// should use URL. Without redis-server on PATH it skips t (fails under CI).
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := start(opts)
	if err != nil {
		unavailable(t, err.Error())
	}
	t.Cleanup(s.Kill)
	return s
}

func start(opts Options) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not on PATH")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &Server{Addr: addr, opts: opts}
	if err := s.launch(bin); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) launch(bin string) error {
	_, port, _ := net.SplitHostPort(s.Addr)
	args := []string{"--port", port, "--bind", "127.0.0.1", "--save", "", "--dir", s.opts.Dir,
		"--daemonize", "no", "--protected-mode", "no", "--loglevel", "warning", "--logfile", ""}
	if s.opts.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	if s.opts.Password != "" {
		args = append(args, "--requirepass", s.opts.Password)
	}
	if s.opts.MaxmemoryPolicy != "" {
		args = append(args, "--maxmemory-policy", s.opts.MaxmemoryPolicy)
	}
	if s.opts.cluster {
		args = append(args, clusterArgs(port)...)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.opts.Dir
	logName := filepath.Join(s.opts.Dir, "redis-"+port+".log")
	if s.opts.discardLog {
		logName = os.DevNull
	}
	logf, err := os.OpenFile(logName, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start redis-server: %w", err)
	}
	go func() { cmd.Wait(); logf.Close() }()
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	// Wait for PING (at most 10 s).
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr, Password: s.opts.Password, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			b, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("redis-server on %s did not answer PING: %v; log: %s", s.Addr, err, firstLines(string(b), 5))
		}
		time.Sleep(20 * time.Millisecond) // waiting for a child process to start, not politeness
	}
}

func firstLines(s string, n int) string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() && len(out) < n {
		out = append(out, sc.Text())
	}
	return strings.Join(out, " | ")
}

// URL returns the server's redis:// URL (with its password, if any).
func (s *Server) URL() string {
	if s.opts.Password != "" {
		return "redis://:" + s.opts.Password + "@" + s.Addr + "/0"
	}
	return "redis://" + s.Addr + "/0"
}

// Kill stops the server with SIGKILL and waits for it to exit. Data not
// in the append-only file is lost.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	cmd.Process.Kill()
	// Wait until the port is free again.
	for i := 0; i < 200; i++ {
		c, err := net.DialTimeout("tcp", s.Addr, 50*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
}

// Restart starts the server again on the same port and directory (after
// Kill); with AppendOnly the data is back.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.launch(bin); err != nil {
		t.Fatalf("redistest: restart: %v", err)
	}
}

// Port returns the server's port as a number.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}
