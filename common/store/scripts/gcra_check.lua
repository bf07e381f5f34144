-- gcra_check.lua - checks, and charges all or none of, the GCRA rate-limit buckets of one
-- message in one atomic step. The formulas are those of common/ratelimit/gcra.hpp (a test
-- runs the same requests through both and compares).
--
-- KEYS[i]        bucket i (`mw:rl:{rule}:{window}:{subject}`): a string holding its
--                theoretical arrival time (TAT), integer microseconds since the Unix
--                epoch; a missing key is an empty bucket.
-- ARGV[1]        now, integer microseconds since the Unix epoch, from the caller's clock
-- ARGV[2]        "check": charge every bucket when all allow; "peek": charge nothing
-- ARGV[3i..3i+2] for bucket i: emission interval T (us, >= 1), limit (>= 1), cost (>= 1)
--
-- Bucket i allows when max(TAT, now) + cost*T - now <= limit*T.
-- Returns        { allowed (1 when every bucket allowed, else 0),
--                  then per bucket i: allowed_i (1|0), used_i, retry_after_i (us),
--                  over_capacity_i (1 when cost > limit) }
--                used_i counts the units in use after this call (ceil((TAT - now) / T)).
-- Effects        only for "check" when every bucket allowed: SET KEYS[i] <new TAT> PX <ttl>
--                with ttl = ceil((new TAT - now) / 1000) ms, at most the window, so every
--                key expires once its bucket is empty again. Otherwise nothing is written.
--                A key named twice is charged twice (later entries see earlier charges).

-- floor(a / b) for integers a >= 0, b > 0 held in doubles, corrected for rounding.
local function floor_div(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local function ceil_div(a, b)
  return floor_div(a + b - 1, b)
end

local function used(tat, now, interval, limit)
  if tat <= now then
    return 0
  end
  return math.min(ceil_div(tat - now, interval), limit)
end

local now = tonumber(ARGV[1])
local charge = ARGV[2] == 'check'
local n = #KEYS
if now == nil or #ARGV ~= 2 + 3 * n then
  return redis.error_reply('ERR gcra_check: bad arguments')
end

local stored = {}   -- key -> TAT in Redis before this call
local pending = {}  -- key -> TAT after the earlier buckets' charges
local decisions = {}
local all_allowed = true
for i = 1, n do
  local key = KEYS[i]
  local interval = tonumber(ARGV[3 * i])
  local limit = tonumber(ARGV[3 * i + 1])
  local cost = tonumber(ARGV[3 * i + 2])
  if interval == nil or limit == nil or cost == nil or interval < 1 or limit < 1 or cost < 1 then
    return redis.error_reply('ERR gcra_check: bad bucket ' .. i)
  end
  if stored[key] == nil then
    stored[key] = tonumber(redis.call('GET', key) or '0') or 0
  end
  local tat = pending[key] or stored[key]
  local window = interval * limit
  local new_tat = math.max(tat, now) + cost * interval
  local d = { interval = interval, limit = limit, over = (cost > limit) and 1 or 0 }
  if new_tat - now <= window then
    d.allowed = 1
    d.tat = new_tat
    d.retry = 0
    pending[key] = new_tat
  else
    d.allowed = 0
    d.tat = tat
    d.retry = new_tat - window - now
    all_allowed = false
  end
  decisions[i] = d
end

local charged = charge and all_allowed
local reply = { all_allowed and 1 or 0 }
for i = 1, n do
  local d = decisions[i]
  local tat = charged and d.tat or stored[KEYS[i]]
  reply[#reply + 1] = d.allowed
  reply[#reply + 1] = used(tat, now, d.interval, d.limit)
  reply[#reply + 1] = d.retry
  reply[#reply + 1] = d.over
end
if charged then
  for key, tat in pairs(pending) do
    local ttl = math.max(1, ceil_div(tat - now, 1000))
    redis.call('SET', key, string.format('%.0f', tat), 'PX', string.format('%.0f', ttl))
  end
end
return reply
