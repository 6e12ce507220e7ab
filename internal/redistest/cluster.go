package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// StartCluster starts a Redis Cluster of n masters (n >= 3, no replicas)
// from redis-server and redis-cli on PATH, on free loopback ports, and
// stops it when t ends. It returns the nodes' addresses. Without the
// programs it skips t (fails under CI).
func StartCluster(t testing.TB, n int) []string {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		unavailable(t, "redis-cli not on PATH")
	}
	var addrs []string
	for range n {
		s, err := start(Options{Dir: t.TempDir(), cluster: true})
		if err != nil {
			unavailable(t, err.Error())
		}
		t.Cleanup(s.Kill)
		addrs = append(addrs, s.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	// Wait until every node agrees the cluster is up.
	for _, a := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: a})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if ctx.Err() != nil {
				c.Close()
				t.Fatalf("redistest: cluster node %s not ready: %v %q", a, err, info)
			}
			time.Sleep(50 * time.Millisecond) // waiting for the cluster to form
		}
		c.Close()
	}
	return addrs
}

// clusterArgs are the extra redis-server arguments of a cluster node.
func clusterArgs(port string) []string {
	return []string{"--cluster-enabled", "yes", "--cluster-config-file", fmt.Sprintf("nodes-%s.conf", port),
		"--cluster-node-timeout", "5000"}
}
