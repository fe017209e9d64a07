"""The Redis store's Lua scripts: the rules of :mod:`aicmo_gateway.state.store.rules`, run
atomically on the server with the server's clock (so hosts with skewed clocks agree).

Numbers cross as strings (Lua would truncate a returned float to an integer). Every write
sets a TTL. The quota keys are derived inside the script from the window the server's clock
is in, so the store needs a single Redis (not a cluster).
"""

from __future__ import annotations

__all__ = [
    "CLAIM",
    "CLAIM_PERMIT",
    "COMPLETE",
    "FAILURE",
    "PERMIT",
    "QUOTA_COUNTS",
    "RELEASE",
    "SUCCESS",
]

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
"""

#: the permit, as a Lua function of the facts key and its arguments (a table): the quota key
#: prefix, threshold (0: none), probe seconds, rate (0: none), burst, facts ttl, number of
#: quotas, then (limit, seconds, period) each. Returns {kind, wait, reason, fails}.
_PERMIT_FUNCTION = """
local function permit(fkey, A)
  local f = redis.call('HMGET', fkey, 'fails', 'open_until', 'open_reason', 'cool_until',
                       'cool_reason', 'probe_until', 'tokens', 'stamp')
  local fails = tonumber(f[1]) or 0
  local cool_until = tonumber(f[4]) or 0
  if cool_until > now then return {'cooldown', tostring(cool_until - now), f[5] or '', fails} end
  local open_until = tonumber(f[2]) or 0
  if open_until > now then return {'open', tostring(open_until - now), f[3] or '', fails} end
  local threshold = tonumber(A[2])
  local probe = false
  if threshold > 0 and fails >= threshold then
    local probe_until = tonumber(f[6]) or 0
    if probe_until > now then
      return {'half_open', tostring(probe_until - now),
              'half-open: another process is probing it', fails}
    end
    probe = true
  end
  local n = tonumber(A[7])
  local qkeys = {}
  for i = 0, n - 1 do
    local limit = tonumber(A[8 + 3 * i])
    local seconds = tonumber(A[9 + 3 * i])
    local period = A[10 + 3 * i]
    local window = math.floor(now / seconds)
    local key = A[1] .. period .. ':' .. window
    local used = tonumber(redis.call('GET', key)) or 0
    if used >= limit then
      return {'quota', tostring((window + 1) * seconds - now),
              'quota of ' .. limit .. ' per ' .. period .. ' used up', fails}
    end
    qkeys[#qkeys + 1] = {key, seconds}
  end
  local rate = tonumber(A[4])
  local tokens = nil
  if rate > 0 then
    local burst = tonumber(A[5])
    tokens = tonumber(f[7])
    local stamp = tonumber(f[8]) or now
    if tokens == nil then tokens = burst end
    tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
    if tokens < 1 then
      return {'rate', tostring((1 - tokens) / rate), 'rate limit of ' .. A[4] .. '/s', fails}
    end
    tokens = tokens - 1
  end
  for _, q in ipairs(qkeys) do
    redis.call('INCR', q[1])
    redis.call('EXPIRE', q[1], math.ceil(q[2]) + 60)
  end
  local wrote = false
  if tokens ~= nil then
    redis.call('HSET', fkey, 'tokens', tostring(tokens), 'stamp', tostring(now))
    wrote = true
  end
  if probe then
    redis.call('HSET', fkey, 'probe_until', tostring(now + tonumber(A[3])))
    wrote = true
  end
  if wrote then redis.call('EXPIRE', fkey, A[6]) end
  if probe then return {'probe', '0', '', fails} end
  return {'ok', '0', '', fails}
end
"""

#: KEYS[1] facts hash; ARGV: the permit's arguments.
PERMIT = _NOW + _PERMIT_FUNCTION + "return permit(KEYS[1], ARGV)\n"

#: KEYS[1] facts hash; ARGV: counted (0/1), cooldown seconds ('' none), reason, open_for
#: ('' none), threshold (0 none), open seconds, multiplier, open max ('' none), facts ttl.
FAILURE = (
    _NOW
    + """
if ARGV[2] ~= '' then
  local until_ = now + tonumber(ARGV[2])
  local current = tonumber(redis.call('HGET', KEYS[1], 'cool_until')) or 0
  if until_ > current then
    redis.call('HSET', KEYS[1], 'cool_until', tostring(until_), 'cool_reason', ARGV[3])
  end
end
if ARGV[1] == '1' then
  local fails = redis.call('HINCRBY', KEYS[1], 'fails', 1)
  local threshold = tonumber(ARGV[5])
  redis.call('HSET', KEYS[1], 'threshold', threshold)
  if (threshold > 0 and fails >= threshold) or ARGV[4] ~= '' then
    local open_until = tonumber(redis.call('HGET', KEYS[1], 'open_until')) or 0
    if open_until <= now then
      local trips = redis.call('HINCRBY', KEYS[1], 'trips', 1)
      local period
      local reason
      if not (threshold > 0 and fails >= threshold) then
        period = tonumber(ARGV[4])
        reason = "a process's breaker opened (last: " .. ARGV[3] .. ')'
      else
        period = tonumber(ARGV[6]) * tonumber(ARGV[7]) ^ (trips - 1)
        if ARGV[8] ~= '' then period = math.min(period, tonumber(ARGV[8])) end
        local word = ' failures'
        if fails == 1 then word = ' failure' end
        reason = fails .. word .. ' in a row across the fleet (last: ' .. ARGV[3] .. ')'
      end
      redis.call('HSET', KEYS[1], 'open_until', tostring(now + period), 'open_reason', reason,
                 'probe_until', '0')
    end
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[9])
return 1
"""
)

#: KEYS[1] facts hash.
SUCCESS = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'fails', 0, 'probe_until', '0')
end
return 1
"""

#: KEYS[1] ledger hash; ARGV: owner, lease seconds, ttl seconds. Returns {state, outcome, wait}.
CLAIM = (
    _NOW
    + """
local e = redis.call('HMGET', KEYS[1], 'outcome', 'owner', 'lease_until')
if e[1] then return {'done', e[1], '0'} end
local state = 'claimed'
if e[2] then
  if e[2] == ARGV[1] then return {'claimed', '', '0'} end
  local lease_until = tonumber(e[3]) or 0
  if lease_until > now then return {'busy', '', tostring(lease_until - now)} end
  state = 'stale'
end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'lease_until', tostring(now + tonumber(ARGV[2])))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {state, '', '0'}
"""
)

#: CLAIM, then (when this caller now holds the key) the permit for the provider it will most
#: likely try first, in the same round trip. KEYS[1] ledger hash, KEYS[2] that provider's facts;
#: ARGV: owner, lease seconds, ttl seconds, then the permit's arguments.
#: Returns {state, outcome, wait} or {state, '', '0', kind, wait, reason, fails}.
CLAIM_PERMIT = (
    _NOW
    + _PERMIT_FUNCTION
    + """
local e = redis.call('HMGET', KEYS[1], 'outcome', 'owner', 'lease_until')
if e[1] then return {'done', e[1], '0'} end
local state = 'claimed'
if e[2] then
  if e[2] ~= ARGV[1] then
    local lease_until = tonumber(e[3]) or 0
    if lease_until > now then return {'busy', '', tostring(lease_until - now)} end
    state = 'stale'
  end
end
if state == 'stale' or not e[2] then
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'lease_until', tostring(now + tonumber(ARGV[2])))
  redis.call('EXPIRE', KEYS[1], ARGV[3])
end
local A = {}
for i = 4, #ARGV do A[#A + 1] = ARGV[i] end
local v = permit(KEYS[2], A)
return {state, '', '0', v[1], v[2], v[3], v[4]}
"""
)

#: KEYS[1] ledger hash; ARGV: outcome text, ttl seconds.
COMPLETE = """
redis.call('HSET', KEYS[1], 'outcome', ARGV[1])
redis.call('HDEL', KEYS[1], 'owner', 'lease_until')
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""

#: KEYS[1] ledger hash; ARGV: owner.
RELEASE = """
local e = redis.call('HMGET', KEYS[1], 'outcome', 'owner')
if (not e[1]) and e[2] == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""

#: the calls counted in the current window of each quota: ARGV holds (quota key prefix with
#: the period, ``...q:<name>:<period>:``, seconds) pairs; returns one count per pair
QUOTA_COUNTS = (
    _NOW
    + """
local out = {}
for i = 1, #ARGV, 2 do
  local window = math.floor(now / tonumber(ARGV[i + 1]))
  out[#out + 1] = redis.call('GET', ARGV[i] .. window) or '0'
end
return out
"""
)
