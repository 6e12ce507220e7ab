package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts below hold every state change of the frontier. Each runs
// atomically on the Redis server, so two processes can never both take the
// last free slot of a host, both lease one URL, or lose an entry between the
// seen set and a queue.
//
// Every script takes the same first five arguments:
//
//	ARGV[1] key prefix "trawl:{name}:", then "|" and the calling Frontier's id
//	        (the payload of its wake-ups, so that it can ignore its own), then
//	        "|1" when the crawl orders each host's queue by priority, "|0" if not
//	ARGV[2] now in Unix milliseconds, or -1 to read the server's clock (TIME)
//	ARGV[3] default MaxInFlight, ARGV[4] default Interval (ms), ARGV[5] default Jitter (ms)
//
// KEYS[1] is always the crawl's "hosts" key: it routes the call to the slot
// of the crawl's hash tag. The scripts build the other key names from the
// prefix; all of them carry the same hash tag and so live in that slot (the
// Cluster rule that a script touches a single slot holds).

// prelude is shared by every script.
const prelude = `
if redis.replicate_commands then pcall(redis.replicate_commands) end
local P, ME, PRIO = string.match(ARGV[1], '^(.*)|([^|]*)|([01])$')
PRIO = PRIO == '1'
local now = tonumber(ARGV[2])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local DMAX, DINT, DJIT = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local K_HOSTS, K_LEASES, K_LEASE, K_DELAYED, K_STATS, K_WAKE =
  P..'hosts', P..'leases', P..'lease', P..'delayed', P..'stats', P..'wake'

-- A host's queue is the list q:<host> (priority 0, and every entry when
-- the crawl has no priorities), plus, with priorities, one list
-- q:<host>|<p> per other priority p that has entries and the ZSET
-- pq:<host> of those priorities scored -p (the highest first).

-- level returns the queue priority of an encoded entry (its third line).
local function level(e)
  if not PRIO then return 0 end
  return tonumber(string.match(e, '^%d+\n%-?%d+\n(%-?%d+)\n')) or 0
end

local function qkey(host, lv)
  if lv == 0 then return P..'q:'..host end
  return P..'q:'..host..'|'..lv
end

-- enqueue adds e to its host's queue: at the tail of its priority, or at
-- the head when it goes back after a lease (expired, released).
local function enqueue(host, e, head)
  local lv = level(e)
  if lv ~= 0 then redis.call('ZADD', P..'pq:'..host, -lv, lv) end
  if head then
    redis.call('LPUSH', qkey(host, lv), e)
  else
    redis.call('RPUSH', qkey(host, lv), e)
  end
end

-- queued reports whether the host has an entry queued.
local function queued(host)
  return redis.call('EXISTS', P..'q:'..host, P..'pq:'..host) > 0
end

-- dequeue pops the host's next entry: the head of its highest priority.
local function dequeue(host)
  if PRIO then
    local top = redis.call('ZRANGE', P..'pq:'..host, 0, 0)
    local lv = tonumber(top[1])
    if lv and (lv > 0 or redis.call('EXISTS', P..'q:'..host) == 0) then
      local k = qkey(host, lv)
      local e = redis.call('LPOP', k)
      if redis.call('EXISTS', k) == 0 then redis.call('ZREM', P..'pq:'..host, top[1]) end
      if e then return e end
    end
  end
  return redis.call('LPOP', P..'q:'..host)
end

local function hostState(hk)
  local v = redis.call('HMGET', hk, 'inflight', 'next', 'max', 'int', 'jit')
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or DMAX,
    tonumber(v[4]) or DINT, tonumber(v[5]) or DJIT
end

-- schedule puts a host on the ready schedule when it has queued entries and
-- a free slot, ready at its next-allowed time or now, whichever is later. A
-- host already scheduled keeps its place. Returns true when it added the
-- host: something new may be leased, waiters should look.
local function schedule(host)
  local inflight, nxt, max = hostState(P..'h:'..host)
  if inflight < max and queued(host) then
    if nxt < now then nxt = now end
    return redis.call('ZADD', K_HOSTS, 'NX', nxt, host) == 1
  end
  return false
end

-- done reports whether nothing is queued, delayed or leased.
local function done()
  local queued = tonumber(redis.call('HGET', K_STATS, 'queued')) or 0
  return queued <= 0 and redis.call('ZCARD', K_LEASES) == 0
end

-- bump increments the attempt counter at the head of an encoded entry.
local function bump(e)
  local a, rest = string.match(e, '^(%d+)\n(.*)$')
  return tostring(tonumber(a) + 1) .. '\n' .. rest
end

-- settle removes lease id if it holds exactly host and entry e, frees the
-- host's slot and returns true; false when the lease is unknown.
local function settle(id, host, e)
  if redis.call('HGET', K_LEASE, id) ~= host .. '\n' .. e then return false end
  redis.call('HDEL', K_LEASE, id)
  redis.call('ZREM', K_LEASES, id)
  redis.call('HINCRBY', P..'h:'..host, 'inflight', -1)
  return true
end
`

// pushScript: ARGV[6] idempotency token, ARGV[7] token TTL (s), then groups
// of four: seen bucket, fingerprint, host, encoded entry. Returns how many
// entries were new. A repeated call with the same token returns the first
// call's count and changes nothing, so a Push retried after a lost reply is
// exact.
var pushScript = goredis.NewScript(prelude + `
local tok = P..'tok:'..ARGV[6]
local prev = redis.call('GET', tok)
if prev then return tonumber(prev) end
local added = 0
local touched = {}
for i = 8, #ARGV, 4 do
  if redis.call('SADD', P..'s:'..ARGV[i], ARGV[i+1]) == 1 then
    local host = ARGV[i+2]
    enqueue(host, ARGV[i+3], false)
    if redis.call('HINCRBY', P..'h:'..host, 'n', 1) == 1 then
      redis.call('HINCRBY', K_STATS, 'hosts', 1)
    end
    touched[host] = true
    added = added + 1
  end
end
if added > 0 then
  redis.call('HINCRBY', K_STATS, 'queued', added)
  redis.call('HINCRBY', K_STATS, 'seen', added)
  local wake = false
  for host in pairs(touched) do
    if redis.call('SADD', P..'hostset', host) == 1 then
      redis.call('HINCRBY', P..'counters', 'hosts', 1)
    end
    if schedule(host) then wake = true end
  end
  if wake then redis.call('PUBLISH', K_WAKE, ME) end
end
-- Only a call that added something needs its count kept: replaying one
-- that added nothing adds nothing again.
if added > 0 then redis.call('SET', tok, added, 'EX', tonumber(ARGV[7])) end
return added
`)

// nextScript: ARGV[6] visibility timeout (ms), ARGV[7] random number in
// [0, 1) for the jitter, ARGV[8] a random token, the crawl's key
// generation if it has none yet. It first re-queues expired leases (at the head of
// their host's queue, attempt + 1) and moves due retries onto their queues,
// then leases the head of the host that has been ready longest (the lowest
// score in the hosts ZSET: O(log hosts), no scan). Returns
//
//	{1, id, host, entry, more, pass, gen}  a lease; more = 1 when another host is
//	                      ready now; pass and gen: the crawl's pass number and key
//	                      generation (seenCache)
//	{0, wait}             nothing ready; wait = ms until something may be (-1 unknown)
//	{2}                   done: nothing queued, delayed or leased
var nextScript = goredis.NewScript(prelude + leaseNext + `
return leaseNext(tonumber(ARGV[6]), tonumber(ARGV[7]), ARGV[8])
`)

// leaseNext is the body of nextScript, a function of the visibility
// timeout (ms), the random number for the jitter and the generation token,
// so that ackLeaseScript can run it too.
const leaseNext = `
local function leaseNext(VIS, RND, GEN)
local expired = redis.call('ZRANGEBYSCORE', K_LEASES, '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(expired) do
  local v = redis.call('HGET', K_LEASE, id)
  redis.call('ZREM', K_LEASES, id)
  redis.call('HDEL', K_LEASE, id)
  if v then
    local host, e = string.match(v, '^([^\n]*)\n(.*)$')
    enqueue(host, bump(e), true)
    redis.call('HINCRBY', P..'h:'..host, 'inflight', -1)
    redis.call('HINCRBY', K_STATS, 'queued', 1)
    redis.call('HINCRBY', P..'counters', 'expired', 1)
    schedule(host)
  end
end
local due = redis.call('ZRANGEBYSCORE', K_DELAYED, '-inf', now, 'LIMIT', 0, 100)
for _, m in ipairs(due) do
  redis.call('ZREM', K_DELAYED, m)
  local host, e = string.match(m, '^[^\n]*\n([^\n]*)\n(.*)$')
  enqueue(host, e, false)
  schedule(host)
end
for i = 1, 32 do
  local c = redis.call('ZRANGE', K_HOSTS, 0, 0, 'WITHSCORES')
  if #c == 0 then break end
  local host, at = c[1], tonumber(c[2])
  if at > now then break end
  local hk = P..'h:'..host
  local inflight, _, max, int, jit = hostState(hk)
  local e = false
  if inflight < max then e = dequeue(host) end
  if not e then
    redis.call('ZREM', K_HOSTS, host)
  else
    inflight = inflight + 1
    local nxt = now + int + math.floor(RND * jit)
    redis.call('HSET', hk, 'inflight', inflight, 'next', nxt, 'last', now)
    if inflight < max and queued(host) then
      redis.call('ZADD', K_HOSTS, nxt, host)
    else
      redis.call('ZREM', K_HOSTS, host)
    end
    local id = tostring(redis.call('INCR', P..'seq'))
    redis.call('HSET', K_LEASE, id, host .. '\n' .. e)
    redis.call('ZADD', K_LEASES, now + VIS, id)
    redis.call('HINCRBY', K_STATS, 'queued', -1)
    local more = 0
    local c2 = redis.call('ZRANGE', K_HOSTS, 0, 0, 'WITHSCORES')
    if #c2 > 0 and tonumber(c2[2]) <= now then more = 1 end
    -- The epoch of the seen set: the pass, and the generation of the
    -- crawl's keys (new when they were dropped or lost).
    local pg = redis.call('HMGET', P..'pass', 'n', 'gen')
    if not pg[2] then
      redis.call('HSET', P..'pass', 'gen', GEN)
      pg[2] = GEN
    end
    return {1, id, host, e, more, tonumber(pg[1]) or 0, pg[2]}
  end
end
if done() then return {2} end
local wait = -1
for _, key in ipairs({K_HOSTS, K_DELAYED, K_LEASES}) do
  local c = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if #c > 0 then
    local w = tonumber(c[2]) - now
    if w < 1 then w = 1 end
    if wait < 0 or w < wait then wait = w end
  end
end
return {0, wait}
end
`

// ackScript: ARGV[6] lease id, ARGV[7] host, ARGV[8] entry as leased.
// Returns 2 when the freed slot (or the end of the crawl) woke waiters, 1
// when it did not, 0 for an unknown lease. When the host has nothing left and
// no policy of its own, its state is deleted.
var ackScript = goredis.NewScript(prelude + ackOne + `
return (ackOne(ARGV[6], ARGV[7], ARGV[8]))
`)

// ackOne is the body of ackScript, a function of the lease id, host and
// entry, so that ackLeaseScript can run it too. Besides ackScript's reply
// it returns how many subscribers heard its wake-up (0 when it sent none).
const ackOne = `
local function ackOne(id, host, e)
if not settle(id, host, e) then return 0, 0 end
local hk = P..'h:'..host
if redis.call('HINCRBY', hk, 'n', -1) <= 0 then
  redis.call('HINCRBY', K_STATS, 'hosts', -1)
  local nxt = tonumber(redis.call('HGET', hk, 'next')) or 0
  if nxt <= now and redis.call('HEXISTS', hk, 'pol') == 0 then redis.call('DEL', hk) end
end
redis.call('HINCRBY', P..'counters', 'acked', 1)
-- Wake waiters only when a lease became possible, or when the crawl is done.
if schedule(host) or done() then
  return 2, redis.call('PUBLISH', K_WAKE, ME)
end
return 1, 0
end
`

// ackLeaseScript: ARGV[6] lease id, ARGV[7] host, ARGV[8] entry as leased
// (as ackScript), ARGV[9] visibility timeout (ms), ARGV[10] random number,
// ARGV[11] generation token (as nextScript). It acknowledges the lease and, when it was held, leases
// the next ready entry. Returns {0} for an unknown lease (nothing leased),
// else ackScript's 1 or 2 followed by nextScript's reply.
//
// When the ack sent a wake-up (it freed a slot of a host with more queued,
// or ended the crawl) and another process's Frontier heard it (PUBLISH
// counts the subscribers: the caller's own and the others', waiting or
// not), nothing is leased ({2, 0, 0}): the caller then asks with Next
// like the others, and the slot goes to whoever asks first, as with Ack
// and Next. Otherwise the caller's process would keep every slot of a
// busy host it holds, and a process that joins the crawl later would get
// none of them. Alone on the crawl, it leases whatever is ready.
var ackLeaseScript = goredis.NewScript(prelude + ackOne + leaseNext + `
local a, heard = ackOne(ARGV[6], ARGV[7], ARGV[8])
if a == 0 then return {0} end
if heard > 1 then return {a, 0, 0} end
local r = leaseNext(tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11])
table.insert(r, 1, a)
return r
`)

// retryScript: ARGV[6] lease id, ARGV[7] host, ARGV[8] entry as leased,
// ARGV[9] delay (ms). The entry goes back with attempt + 1: straight onto
// its host's queue when the delay is not positive, else into the delayed
// ZSET until now + delay. Returns 1, or 0 for an unknown lease.
var retryScript = goredis.NewScript(prelude + `
local id, host = ARGV[6], ARGV[7]
if not settle(id, host, ARGV[8]) then return 0 end
local e = bump(ARGV[8])
local d = tonumber(ARGV[9])
if d > 0 then
  redis.call('ZADD', K_DELAYED, now + d, id .. '\n' .. host .. '\n' .. e)
else
  enqueue(host, e, false)
end
redis.call('HINCRBY', K_STATS, 'queued', 1)
schedule(host)
redis.call('HINCRBY', P..'counters', 'retried', 1)
redis.call('PUBLISH', K_WAKE, ME)
return 1
`)

// releaseScript: groups of three from ARGV[6]: lease id, host, entry. Each
// lease still held goes back to the head of its host's queue with its
// attempt unchanged (a clean shutdown is not a failure). Returns how many.
var releaseScript = goredis.NewScript(prelude + `
local n = 0
for i = 6, #ARGV, 3 do
  local id, host, e = ARGV[i], ARGV[i+1], ARGV[i+2]
  if settle(id, host, e) then
    enqueue(host, e, true)
    redis.call('HINCRBY', K_STATS, 'queued', 1)
    schedule(host)
    n = n + 1
  end
end
if n > 0 then redis.call('PUBLISH', K_WAKE, ME) end
return n
`)

// extendScript: ARGV[6] visibility timeout (ms), then lease ids. Pushes the
// deadline of each lease still outstanding to now + timeout. Returns how
// many were extended.
var extendScript = goredis.NewScript(prelude + `
local deadline = now + tonumber(ARGV[6])
local n = 0
for i = 7, #ARGV do
  if redis.call('ZSCORE', K_LEASES, ARGV[i]) then
    redis.call('ZADD', K_LEASES, 'XX', deadline, ARGV[i])
    n = n + 1
  end
end
return n
`)

// policyScript: ARGV[6] host, ARGV[7] MaxInFlight (0 = default),
// ARGV[8] Interval (ms), ARGV[9] Jitter (ms), ARGV[10] random in [0, 1),
// ARGV[11] "1" for a provisional policy, which is ignored (returns 0) when
// the host already has a policy.
// The host's next-allowed time is recomputed from its last lease and the
// new interval, so a Crawl-delay learnt while a lease is out spaces that
// lease from the next one, and a shorter one lets the next come sooner (a
// scheduled host waiting for its old next-allowed time is ready at the new
// one, or now).
var policyScript = goredis.NewScript(prelude + `
local host = ARGV[6]
local hk = P..'h:'..host
if ARGV[11] == '1' and redis.call('HEXISTS', hk, 'pol') == 1 then return 0 end
redis.call('HSET', hk, 'pol', 1, 'int', ARGV[8], 'jit', ARGV[9])
local last = tonumber(redis.call('HGET', hk, 'last'))
if last then
  local nxt = last + tonumber(ARGV[8]) + math.floor(tonumber(ARGV[10]) * tonumber(ARGV[9]))
  nxt = math.max(nxt, tonumber(redis.call('HGET', hk, 'hold')) or 0) -- PauseHost (pause.go)
  redis.call('HSET', hk, 'next', nxt)
  local at = tonumber(redis.call('ZSCORE', K_HOSTS, host))
  if at then
    local score = math.max(nxt, math.min(at, now))
    if score ~= at then redis.call('ZADD', K_HOSTS, 'XX', score, host) end
  end
end
if tonumber(ARGV[7]) > 0 then
  redis.call('HSET', hk, 'max', ARGV[7])
else
  redis.call('HDEL', hk, 'max')
end
schedule(host)
redis.call('PUBLISH', K_WAKE, ME)
return 1
`)
