-- account_update.lua - one login's account for the compromised-account detector, updated
-- or read in one atomic step. The formulas are those of common/store/account_math.hpp
-- (MemoryAccountStore); the store contract test runs one scenario through both.
--
-- KEYS[1]   `mw:acct:{login}` hash (fields below); KEYS[2] `mw:held` set;
-- KEYS[3]   (record only, when the message has an envelope sender) `mw:login_of:{sender}`
-- ARGV[1]   op: "record" | "peek" | "bounce" | "hold" | "release"
-- ARGV[2]   now, integer milliseconds since the Unix epoch, from the caller's clock
-- ARGV[3..10] window_ms, half_life_ms, idle_ttl_ms, held_ttl_ms, sender_ttl_ms,
--           known_domains, known_from_domains, tracked_client_ips (caps)
-- ARGV[11]  the login (lower case), stored in field `login` and as the `mw:held` member
-- record:   ARGV[12..17] messages, recipients, failed_recipients, client_ip_tag,
--           client_net_tag (tags may be ""), untracked_domains; ARGV[18] n, then n
--           recipient-domain tags; then m, then m From:-domain tags
-- bounce:   ARGV[12] count of hard bounces (ignored when the account does not exist)
-- hold:     ARGV[12..15] by, reason, score, figures (kept when already held)
-- release:  ARGV[12..13] by, grace_ms
--
-- Fields    login state first last seen | w w_msgs w_rcpts w_failed w_bounces w_doms w_new
--           w_newfrom (current window, index w = floor(now / window_ms)) | d d_ips d_nets
--           (current UTC day) | b_w b_msgs b_rcpts b_failed b_bounces b_doms b_new b_fold,
--           bd_w bd_ips bd_nets bd_fold (baseline sums, weights, end of last fold) |
--           n_r n_f n_i n_n (tag field counts) | hold_by hold_reason hold_since hold_score
--           hold_figures | grace rel_by rel_at; and per tag `r:`/`f:` = last window index
--           (recipient / From: domains), `i:`/`n:` = day index (client IPs / networks).
-- Rolling   before any op, a finished window (w < now's) is folded into the baseline when
--           it had messages and the state is ok: sums and weight decay by
--           2^(-(end - b_fold) / half_life), then add the window and 1; the `r:`/`f:` tags
--           are trimmed to 3/4 of their cap, least recently used first (ties by tag); a
--           finished day folds likewise (when it saw an IP) and its `i:`/`n:` tags go.
-- Returns   { result, field, value, field, value, ... } with every scalar field as text
--           (numbers as %.17g). result: 1, or 0 for peek/bounce of a missing account and
--           for hold of a held one; release adds ended_by, ended_reason, ended_since,
--           ended_score, ended_figures (and result 0 when it was not held).
-- Effects   record/hold/release/bounce write the hash (peek writes nothing); record
--           PEXPIREs it idle_ttl (held_ttl when held) and sets KEYS[3] = login PX
--           sender_ttl; hold SADDs the login to KEYS[2] (PEXPIRE held_ttl), release SREMs.
--           Every key written has a TTL.

local SCALARS = {
  'login', 'state', 'first', 'last', 'seen',
  'w', 'w_msgs', 'w_rcpts', 'w_failed', 'w_bounces', 'w_doms', 'w_new', 'w_newfrom',
  'd', 'd_ips', 'd_nets',
  'b_w', 'b_msgs', 'b_rcpts', 'b_failed', 'b_bounces', 'b_doms', 'b_new', 'b_fold',
  'bd_w', 'bd_ips', 'bd_nets', 'bd_fold',
  'n_r', 'n_f', 'n_i', 'n_n',
  'hold_by', 'hold_reason', 'hold_since', 'hold_score', 'hold_figures',
  'grace', 'rel_by', 'rel_at',
}
local TEXT = { login = true, state = true, hold_by = true, hold_reason = true,
               hold_figures = true, rel_by = true }
local WINDOW = { 'w_msgs', 'w_rcpts', 'w_failed', 'w_bounces', 'w_doms', 'w_new', 'w_newfrom' }
local DAY_MS = 86400000

local op = ARGV[1]
local now = tonumber(ARGV[2])
local window_ms = tonumber(ARGV[3])
local half_life = tonumber(ARGV[4])
local idle_ttl = tonumber(ARGV[5])
local held_ttl = tonumber(ARGV[6])
local sender_ttl = tonumber(ARGV[7])
local cap_r = tonumber(ARGV[8])
local cap_f = tonumber(ARGV[9])
local cap_ip = tonumber(ARGV[10])
local login = ARGV[11]
if now == nil or window_ms == nil or window_ms < 1 or half_life == nil or half_life < 1 or
    idle_ttl == nil or held_ttl == nil or sender_ttl == nil or cap_r == nil or cap_f == nil or
    cap_ip == nil or login == nil then
  return redis.error_reply('ERR account_update: bad arguments')
end
local acct = KEYS[1]
local write = op ~= 'peek'

local function fmt(v)
  if type(v) == 'number' then
    return string.format('%.17g', v)
  end
  return v
end

local function decay(elapsed)
  if elapsed <= 0 then
    return 1
  end
  return 2 ^ (-elapsed / half_life)
end

-- Loads the scalars; nil when the account does not exist.
local function load()
  local values = redis.call('HMGET', acct, unpack(SCALARS))
  if values[2] == false then
    return nil
  end
  local st = {}
  for i, name in ipairs(SCALARS) do
    local v = values[i]
    if TEXT[name] then
      st[name] = v or ''
    else
      st[name] = tonumber(v or '0') or 0
    end
  end
  return st
end

local function create()
  local st = {}
  for _, name in ipairs(SCALARS) do
    st[name] = TEXT[name] and '' or 0
  end
  st.login = login
  st.state = 'ok'
  st.first = now
  st.w = math.floor(now / window_ms)
  st.d = math.floor(now / DAY_MS)
  return st
end

-- The tag fields with prefix `p` as { {last, tag}, ... }.
local function tags_of(p)
  local all = redis.call('HGETALL', acct)
  local out = {}
  for i = 1, #all, 2 do
    local f = all[i]
    if string.sub(f, 1, 2) == p then
      out[#out + 1] = { tonumber(all[i + 1]) or 0, string.sub(f, 3) }
    end
  end
  return out
end

local function trim(st, p, count_field, cap)
  local keep = math.max(1, cap - math.floor(cap / 4))
  if st[count_field] <= keep then
    return
  end
  local order = tags_of(p)
  table.sort(order, function(a, b)
    if a[1] ~= b[1] then
      return a[1] < b[1]
    end
    return a[2] < b[2]
  end)
  local drop = #order - keep
  for i = 1, drop do
    if write then
      redis.call('HDEL', acct, p .. order[i][2])
    end
  end
  st[count_field] = math.max(0, #order - math.max(drop, 0))
end

local function clear_tags(st, p, count_field)
  if st[count_field] > 0 and write then
    local order = tags_of(p)
    for i = 1, #order do
      redis.call('HDEL', acct, p .. order[i][2])
    end
  end
  st[count_field] = 0
end

local function roll(st)
  local w = math.floor(now / window_ms)
  local d = math.floor(now / DAY_MS)
  local ok = st.state == 'ok'
  if st.w < w then
    if ok and st.w_msgs > 0 then
      local e = (st.w + 1) * window_ms
      local k = st.b_fold > 0 and decay(e - st.b_fold) or 1
      st.b_msgs = st.b_msgs * k + st.w_msgs
      st.b_rcpts = st.b_rcpts * k + st.w_rcpts
      st.b_failed = st.b_failed * k + st.w_failed
      st.b_bounces = st.b_bounces * k + st.w_bounces
      st.b_doms = st.b_doms * k + st.w_doms
      st.b_new = st.b_new * k + st.w_new
      st.b_w = st.b_w * k + 1
      st.b_fold = e
    end
    trim(st, 'r:', 'n_r', cap_r)
    trim(st, 'f:', 'n_f', cap_f)
    for _, name in ipairs(WINDOW) do
      st[name] = 0
    end
    st.w = w
  end
  if st.d < d then
    if ok and st.d_ips > 0 then
      local e = (st.d + 1) * DAY_MS
      local k = st.bd_fold > 0 and decay(e - st.bd_fold) or 1
      st.bd_ips = st.bd_ips * k + st.d_ips
      st.bd_nets = st.bd_nets * k + st.d_nets
      st.bd_w = st.bd_w * k + 1
      st.bd_fold = e
    end
    clear_tags(st, 'i:', 'n_i')
    clear_tags(st, 'n:', 'n_n')
    st.d_ips = 0
    st.d_nets = 0
    st.d = d
  end
end

-- Counts one tag: returns distinct (not yet seen this period), fresh (never seen).
local function see(st, p, tag, index, count_field, cap)
  local f = p .. tag
  local last = redis.call('HGET', acct, f)
  if last == false then
    if st[count_field] < cap then
      redis.call('HSET', acct, f, index)
      st[count_field] = st[count_field] + 1
    end
    return true, true
  end
  if tonumber(last) < index then
    redis.call('HSET', acct, f, index)
    return true, false
  end
  return false, false
end

local function save(st)
  local args = {}
  for _, name in ipairs(SCALARS) do
    args[#args + 1] = name
    args[#args + 1] = fmt(st[name])
  end
  redis.call('HSET', acct, unpack(args))
  redis.call('PEXPIRE', acct, st.state == 'held' and held_ttl or idle_ttl)
end

local function reply(result, st, extra)
  local out = { result }
  if st ~= nil then
    for _, name in ipairs(SCALARS) do
      out[#out + 1] = name
      out[#out + 1] = fmt(st[name])
    end
  end
  if extra ~= nil then
    for i = 1, #extra do
      out[#out + 1] = extra[i]
    end
  end
  return out
end

local st = load()

if op == 'peek' or op == 'bounce' then
  if st == nil then
    return reply(0, nil, nil)
  end
  roll(st)
  if op == 'bounce' then
    local count = tonumber(ARGV[12])
    if count == nil or count < 0 then
      return redis.error_reply('ERR account_update: bad bounce count')
    end
    st.w_bounces = st.w_bounces + count
    local ttl = redis.call('PTTL', acct)
    save(st)
    if ttl > 0 then
      redis.call('PEXPIRE', acct, ttl)  -- a bounce does not keep an account alive
    end
  end
  return reply(1, st, nil)
end

if op == 'record' then
  local messages = tonumber(ARGV[12])
  local rcpts = tonumber(ARGV[13])
  local failed = tonumber(ARGV[14])
  local ip_tag = ARGV[15]
  local net_tag = ARGV[16]
  local untracked = tonumber(ARGV[17])
  local n = tonumber(ARGV[18])
  if messages == nil or rcpts == nil or failed == nil or untracked == nil or n == nil or
      #ARGV < 19 + n then
    return redis.error_reply('ERR account_update: bad record arguments')
  end
  local m = tonumber(ARGV[19 + n])
  if m == nil or #ARGV ~= 19 + n + m then
    return redis.error_reply('ERR account_update: bad record arguments')
  end
  if st == nil then
    st = create()
  end
  roll(st)
  st.seen = st.seen + messages
  st.w_msgs = st.w_msgs + messages
  st.w_rcpts = st.w_rcpts + rcpts
  st.w_failed = st.w_failed + failed
  st.w_doms = st.w_doms + untracked
  st.w_new = st.w_new + untracked
  for i = 1, n do
    local distinct, fresh = see(st, 'r:', ARGV[18 + i], st.w, 'n_r', cap_r)
    if distinct then st.w_doms = st.w_doms + 1 end
    if fresh then st.w_new = st.w_new + 1 end
  end
  for i = 1, m do
    local _, fresh = see(st, 'f:', ARGV[19 + n + i], st.w, 'n_f', cap_f)
    if fresh then st.w_newfrom = st.w_newfrom + 1 end
  end
  if ip_tag ~= '' then
    local distinct = see(st, 'i:', ip_tag, st.d, 'n_i', cap_ip)
    if distinct then st.d_ips = st.d_ips + 1 end
  end
  if net_tag ~= '' then
    local distinct = see(st, 'n:', net_tag, st.d, 'n_n', cap_ip)
    if distinct then st.d_nets = st.d_nets + 1 end
  end
  st.last = now
  save(st)
  if #KEYS >= 3 then
    redis.call('SET', KEYS[3], login, 'PX', sender_ttl)
  end
  if st.state == 'held' then
    redis.call('SADD', KEYS[2], login)
    redis.call('PEXPIRE', KEYS[2], held_ttl)
  end
  return reply(1, st, nil)
end

if op == 'hold' then
  local score = tonumber(ARGV[14])
  if ARGV[12] == nil or ARGV[13] == nil or score == nil or ARGV[15] == nil then
    return redis.error_reply('ERR account_update: bad hold arguments')
  end
  if st == nil then
    st = create()
  end
  roll(st)
  if st.state == 'held' then
    return reply(0, st, nil)
  end
  st.state = 'held'
  st.hold_by = ARGV[12]
  st.hold_reason = ARGV[13]
  st.hold_score = score
  st.hold_figures = ARGV[15]
  st.hold_since = now
  save(st)
  redis.call('SADD', KEYS[2], login)
  redis.call('PEXPIRE', KEYS[2], held_ttl)
  return reply(1, st, nil)
end

if op == 'release' then
  local grace = tonumber(ARGV[13])
  if ARGV[12] == nil or grace == nil then
    return redis.error_reply('ERR account_update: bad release arguments')
  end
  redis.call('SREM', KEYS[2], login)
  if st == nil then
    return reply(0, nil, nil)
  end
  if st.state ~= 'held' then
    return reply(0, st, nil)
  end
  roll(st)
  local ended = { 'ended_by', st.hold_by, 'ended_reason', st.hold_reason,
                  'ended_since', fmt(st.hold_since), 'ended_score', fmt(st.hold_score),
                  'ended_figures', st.hold_figures }
  st.state = 'ok'
  st.hold_by = ''
  st.hold_reason = ''
  st.hold_since = 0
  st.hold_score = 0
  st.hold_figures = ''
  st.grace = now + math.max(grace, 0)
  st.rel_by = ARGV[12]
  st.rel_at = now
  for _, name in ipairs(WINDOW) do
    st[name] = 0
  end
  clear_tags(st, 'i:', 'n_i')
  clear_tags(st, 'n:', 'n_n')
  st.d_ips = 0
  st.d_nets = 0
  save(st)
  return reply(1, st, ended)
end

return redis.error_reply('ERR account_update: unknown op')
