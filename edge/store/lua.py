"""The Lua scripts that make profile writes atomic.

``APPLY`` applies one event batch, atomically: it advances the profile's visit (a new visit
after ``idle`` ms without activity), runs the primitive operations that ``edge.store.events``
compiled from the validated events on the profile's keys (all in its hash-tag slot), sets the
anonymous expiry (or removes it for a known contact), then bumps the shared counters
(co-occurrence, popularity, placement stats). The shared keys live outside the profile's slot:
on Redis Cluster, send them as a second script call.

``FIRST_VIEW`` is the cheap case of APPLY that most page views of new visitors are.

``LINK`` makes an anonymous profile a known contact's: it finds the contact's profile by id or
email, claims the anonymous profile for the contact if there is none, and otherwise merges the
anonymous profile into the known one. It runs as one script, so two requests linking at once
cannot both merge, and running it again is a no-op (the anonymous id is then an alias).
LINK touches two profiles and shared indexes, so it builds key names itself: it needs one Redis
node (or, on Cluster, a deployment that keeps those keys together).
"""

from __future__ import annotations

APPLY = r"""
local ops = cmsgpack.unpack(ARGV[1])
local now = tonumber(ARGV[2])
-- Passed on to commands as the strings they came as: Redis turns a Lua number back into text
-- with printf, a tenth of this script's time on a first page view.
local now_text, ttl = ARGV[2], ARGV[3]
local idle = tonumber(ARGV[4])
local pid = ARGV[5]
local p = KEYS[1]
local st = redis.call('HMGET', p, 'last_seen', 'visit_no')
local last = tonumber(st[1]) or 0
local vno = tonumber(st[2]) or 0
local new_visit = 0
-- A profile's first write (nothing under p yet: a new visitor's first page view) sets what
-- the steps below would, in one command. Each command a script calls costs Redis a few
-- look-ups in its dictionaries, which a keyspace of many anonymous profiles makes slow.
local first = vno == 0 and redis.call('EXISTS', p) == 0
if first then
  vno, new_visit = 1, 1
  redis.call('HSET', p, 'visit_no', 1, 'visit_start', now_text, 'pv_visit', 0, 'tos_visit', 0,
             'visits', 1, 'last_seen', now_text, 'created', now_text, 'stable', pid)
else
  if vno == 0 or now - last > idle then
    vno = vno + 1
    redis.call('HSET', p, 'visit_no', vno, 'visit_start', now_text, 'pv_visit', 0,
               'tos_visit', 0)
    redis.call('HINCRBY', p, 'visits', 1)
    new_visit = 1
  end
  if now > last then redis.call('HSET', p, 'last_seen', now_text) end
  redis.call('HSETNX', p, 'created', now_text)
  redis.call('HSETNX', p, 'stable', pid)
end
local day = math.floor(now / 86400000)

local function stamp(blob)
  local ok, v = pcall(cmsgpack.unpack, blob)
  if ok and type(v) == 'table' and tonumber(v['ts']) then return tonumber(v['ts']) end
  return 0
end

-- hashes whose field names come from visitors stay bounded: a new field needs room
local function room(k, field, cap)
  return (not cap) or redis.call('HEXISTS', k, field) == 1 or redis.call('HLEN', k) < cap
end

for _, op in ipairs(ops) do
  local name = op[1]
  if name == 'lpush' then
    if redis.call('LPUSH', KEYS[op[2]], op[3]) > op[4] then
      redis.call('LTRIM', KEYS[op[2]], 0, op[4] - 1)
    end
  elseif name == 'hincr' then
    redis.call('HINCRBY', KEYS[op[2]], op[3], op[4])
  elseif name == 'hset' then
    if room(KEYS[op[2]], op[3], op[5]) then redis.call('HSET', KEYS[op[2]], op[3], op[4]) end
  elseif name == 'hdel' then
    redis.call('HDEL', KEYS[op[2]], op[3])
  elseif name == 'zadd' then
    redis.call('ZADD', KEYS[op[2]], op[3], op[4])
    redis.call('ZREMRANGEBYRANK', KEYS[op[2]], 0, -(op[5] + 1))
  elseif name == 'del' then
    redis.call('DEL', KEYS[op[2]])
  elseif name == 'cart' then
    -- add to the line's quantity; price and time from this event
    local k = KEYS[op[2]]
    local qty = op[4]
    local old = redis.call('HGET', k, op[3])
    if not room(k, op[3], op[6]) then qty = nil end
    if old then
      local ok, v = pcall(cmsgpack.unpack, old)
      if ok and type(v) == 'table' and tonumber(v['qty']) then qty = qty + tonumber(v['qty']) end
    end
    if qty then
      local line = cmsgpack.unpack(op[5])
      line['qty'] = qty
      redis.call('HSET', k, op[3], cmsgpack.pack(line))
    end
  elseif name == 'zrem' then
    redis.call('ZREM', KEYS[op[2]], op[3])
  elseif name == 'latest' then
    -- hash field holding msgpack {..., ts}: the newer value wins (consents)
    local old = redis.call('HGET', KEYS[op[2]], op[3])
    if old then
      if stamp(old) <= op[5] then redis.call('HSET', KEYS[op[2]], op[3], op[4]) end
    elseif room(KEYS[op[2]], op[3], op[6]) then
      redis.call('HSET', KEYS[op[2]], op[3], op[4])
    end
  elseif name == 'place' then
    local k = KEYS[op[2]]
    local base = op[3] .. '|' .. op[4]
    redis.call('HINCRBY', k, base, 1)
    if redis.call('HGET', k, base .. '|dk') == tostring(day) then
      redis.call('HINCRBY', k, base .. '|d', 1)
    else
      redis.call('HSET', k, base .. '|dk', day, base .. '|d', 1)
    end
    if redis.call('HGET', k, base .. '|vn') == tostring(vno) then
      redis.call('HINCRBY', k, base .. '|v', 1)
    else
      redis.call('HSET', k, base .. '|vn', vno, base .. '|v', 1)
    end
    redis.call('HSET', k, base .. '|t', op[5])
  end
end
-- Anonymous profiles expire ttl seconds after their last write, every key alike. A known
-- contact's never expire: a key that still has an expiry is cleared. Once ``p`` has none, no
-- key has (LINK clears them all when the profile becomes known, and the inbox takes an expiry
-- only from ``p``, in one step), so a known contact's write skips the ~25 PERSIST calls.
-- (Only LINK makes a profile known, so a profile's first write is an anonymous one's.)
if (not first) and redis.call('HEXISTS', p, 'contact') == 1 then
  if redis.call('TTL', p) ~= -1 then
    for i = 1, #KEYS do redis.call('PERSIST', KEYS[i]) end
  end
else
  -- When no key exists but those this batch wrote, those are all there is to expire: two
  -- EXISTS instead of an EXPIRE per key (a first page view writes two keys of ~18).
  local wrote, seen = {p}, {[1] = true}
  for _, op in ipairs(ops) do
    if not seen[op[2]] then seen[op[2]] = true; wrote[#wrote + 1] = KEYS[op[2]] end
  end
  if redis.call('EXISTS', unpack(KEYS)) == redis.call('EXISTS', unpack(wrote)) then
    for _, k in ipairs(wrote) do redis.call('EXPIRE', k, ttl) end
  else
    for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ttl) end
  end
end
-- the shared counters (co-occurrence, popularity, stats): [command, key, args...]
local allowed = {ZINCRBY = true, ZREMRANGEBYRANK = true, HINCRBY = true, SADD = true, DEL = true}
for _, cmd in ipairs(cmsgpack.unpack(ARGV[6])) do
  if allowed[cmd[1]] then redis.call(unpack(cmd)) end
end
return {vno, new_visit}
"""

# A new visitor's first page view: what APPLY does for a profile's first write of one page
# view, without APPLY's generality. The write-behind sends it for a visitor minted on the
# request, a first page view (and every page of a crawler, which never keeps a cookie). APPLY
# takes the profile's ~25 keys and unpacks its operations; this takes the four keys a new
# visitor can have, and takes Redis about a third of APPLY's time (28 against 67-86 µs a call,
# the inner commands included).
# If the profile exists after all (any earlier write created ``p``), it writes nothing and
# returns 0: the caller sends the page view as an APPLY call instead.
# It leaves the profile as APPLY would (tests/store/test_writeback_first.py compares the two):
# APPLY's first-write HSET, then the page view's operations (``edge.store.events``: push the
# view, count it in pv_visit and pv_total), then the anonymous expiry on every key that exists.
# KEYS: p, views, and the two a visitor's assignment or inbox offer may have written before
# (exp, inbox). ARGV: now (ms), ttl (s), profile id, the packed view.
FIRST_VIEW = r"""
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = ARGV[1]
redis.call('HSET', KEYS[1], 'visit_no', 1, 'visit_start', now, 'pv_visit', 1, 'tos_visit', 0,
           'visits', 1, 'last_seen', now, 'created', now, 'stable', ARGV[3], 'pv_total', 1)
redis.call('LPUSH', KEYS[2], ARGV[4])
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
return 1
"""

# Everything of one profile in one reply, each part packed as its own msgpack blob, for clients
# that cannot send a MULTI/EXEC of plain reads on the pipelined connection (``Store.load``
# says why those are preferred); a part whose bytes did not change since the last load need
# not be parsed again (``edge.store.partcache``).
# KEYS[1]: the key of the first part in ARGV[1]; every part's key is that key with the part's
# name in place of the first one's (all in the profile's hash-tag slot).
# ARGV[1]: "name:kind:last,..." with kind 'h' hash, 'l' list, 'z' sorted set, 's' string ('' when
# missing; a page's load reads the visitor id's alias this way), and last how many
# items of a list or sorted set to read (newest first), -1 for all, 0 for none.
LOAD = r"""
local first = string.match(ARGV[1], '^([^:,]+)')
local prefix = string.sub(KEYS[1], 1, #KEYS[1] - #first)
local out = {}
for name, kind, last in string.gmatch(ARGV[1], '([^:,]+):(%a):(%-?%d+)') do
  local key = prefix .. name
  local limit = tonumber(last)
  local stop = -1
  if limit > 0 then stop = limit - 1 end
  if kind == 's' then
    out[#out + 1] = cmsgpack.pack(redis.call('GET', key) or '')
  elseif kind ~= 'h' and limit == 0 then
    out[#out + 1] = cmsgpack.pack({})
  elseif kind == 'l' then
    out[#out + 1] = cmsgpack.pack(redis.call('LRANGE', key, 0, stop))
  elseif kind == 'z' then
    out[#out + 1] = cmsgpack.pack(redis.call('ZREVRANGE', key, 0, stop))
  else
    out[#out + 1] = cmsgpack.pack(redis.call('HGETALL', key))
  end
end
return out
"""

LINK = r"""
local anon, cid, email, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local ckey, ekey = ARGV[5], ARGV[6]
-- the contact's identity: its id, or its email when the shop only knows that
local ident = cid
if ident == '' then ident = email end
local parts = cmsgpack.unpack(ARGV[7])
local caps = cmsgpack.unpack(ARGV[8])
local function key(pid, part) return 'edge:{v:' .. pid .. '}:' .. part end
local function drop_fp(pid)
  local fp = redis.call('HGET', key(pid, 'p'), 'fp')
  if fp and redis.call('GET', 'edge:fp:' .. fp) == pid then redis.call('DEL', 'edge:fp:' .. fp) end
  redis.call('HDEL', key(pid, 'p'), 'fp')
end
local function stamp(blob)
  local ok, v = pcall(cmsgpack.unpack, blob)
  if ok and type(v) == 'table' and tonumber(v['ts']) then return tonumber(v['ts']) end
  return 0
end
local function mark_known(pid)
  local p = key(pid, 'p')
  if cid ~= '' then
    redis.call('HSET', p, 'contact', cid)
  else
    redis.call('HSETNX', p, 'contact', email)
  end
  if email ~= '' then redis.call('HSET', p, 'email', email) end
  if ckey ~= '' then redis.call('SET', ckey, pid) end
  if ekey ~= '' then redis.call('SET', ekey, pid) end
  for _, part in ipairs(parts) do redis.call('PERSIST', key(pid, part)) end
  drop_fp(pid)
end

-- the anonymous id may already be an alias (merged before): resolve it
local target = redis.call('GET', key(anon, 'alias'))
if target then anon = target end
local known = false
if ckey ~= '' then known = redis.call('GET', ckey) end
if (not known) and ekey ~= '' then known = redis.call('GET', ekey) end
if not known then
  -- no profile for this contact yet: the visitor's own profile becomes it
  local owner = redis.call('HGET', key(anon, 'p'), 'contact')
  if owner and owner ~= ident then return {anon, 'other'} end
  mark_known(anon)
  return {anon, 'claimed'}
end
mark_known(known)
if known == anon then return {known, 'same'} end
if redis.call('HEXISTS', key(anon, 'p'), 'contact') == 1 then
  -- a different contact's profile is never merged into this one
  return {known, 'other'}
end

local ap, kp = key(anon, 'p'), key(known, 'p')
-- scalar fields
for _, f in ipairs({'points', 'visits', 'pv_total', 'tos_ms'}) do
  local v = tonumber(redis.call('HGET', ap, f))
  if v then redis.call('HINCRBYFLOAT', kp, f, v) end
end
for _, f in ipairs({'tier', 'next_tier', 'points_to_next', 'advisor'}) do
  local v = redis.call('HGET', ap, f)
  if v then redis.call('HSETNX', kp, f, v) end
end
redis.call('HSETNX', kp, 'stable', redis.call('HGET', ap, 'stable') or anon)
local a_created = tonumber(redis.call('HGET', ap, 'created'))
local k_created = tonumber(redis.call('HGET', kp, 'created'))
if a_created and ((not k_created) or a_created < k_created) then
  redis.call('HSET', kp, 'created', a_created)
end
local a_last = tonumber(redis.call('HGET', ap, 'last_seen')) or 0
local k_last = tonumber(redis.call('HGET', kp, 'last_seen')) or 0
local anon_newer = a_last > k_last
if anon_newer then
  for _, f in ipairs({'last_seen', 'visit_no', 'visit_start', 'pv_visit', 'tos_visit'}) do
    local v = redis.call('HGET', ap, f)
    if v then redis.call('HSET', kp, f, v) end
  end
end
-- hashes where the known profile's value wins
for _, part in ipairs({'attrs', 'prefs', 'facts', 'exp', 'inbox'}) do
  local flat = redis.call('HGETALL', key(anon, part))
  for i = 1, #flat, 2 do redis.call('HSETNX', key(known, part), flat[i], flat[i + 1]) end
end
-- hashes where the newer value wins
for _, part in ipairs({'consents', 'cart'}) do
  local flat = redis.call('HGETALL', key(anon, part))
  for i = 1, #flat, 2 do
    local old = redis.call('HGET', key(known, part), flat[i])
    if (not old) or stamp(old) <= stamp(flat[i + 1]) then
      redis.call('HSET', key(known, part), flat[i], flat[i + 1])
    end
  end
end
local flat = redis.call('HGETALL', key(anon, 'clk'))
for i = 1, #flat, 2 do
  local old = tonumber(redis.call('HGET', key(known, 'clk'), flat[i])) or 0
  if tonumber(flat[i + 1]) > old then
    redis.call('HSET', key(known, 'clk'), flat[i], flat[i + 1])
  end
end
flat = redis.call('HGETALL', key(anon, 'agg'))
for i = 1, #flat, 2 do redis.call('HINCRBYFLOAT', key(known, 'agg'), flat[i], flat[i + 1]) end
-- placement history: lifetime counts add up, the newer visit/day window and last time win
flat = redis.call('HGETALL', key(anon, 'place'))
local aplace = {}
for i = 1, #flat, 2 do aplace[flat[i]] = flat[i + 1] end
local kplace_key = key(known, 'place')
for f, v in pairs(aplace) do
  local suffix = string.match(f, '|([a-z]+)$')
  local is_action = (suffix == 'seen' or suffix == 'click' or suffix == 'close')
  if is_action then
    redis.call('HINCRBY', kplace_key, f, v)
    local kdk = redis.call('HGET', kplace_key, f .. '|dk')
    local adk = aplace[f .. '|dk']
    if adk and kdk == adk then
      redis.call('HINCRBY', kplace_key, f .. '|d', aplace[f .. '|d'] or 0)
    elseif adk and ((not kdk) or tonumber(adk) > tonumber(kdk)) then
      redis.call('HSET', kplace_key, f .. '|dk', adk, f .. '|d', aplace[f .. '|d'] or 0)
    end
    if anon_newer and aplace[f .. '|vn'] then
      redis.call('HSET', kplace_key, f .. '|vn', aplace[f .. '|vn'],
                 f .. '|v', aplace[f .. '|v'] or 0)
    end
    local at = tonumber(aplace[f .. '|t']) or 0
    local kt = tonumber(redis.call('HGET', kplace_key, f .. '|t')) or 0
    if at > kt then redis.call('HSET', kplace_key, f .. '|t', at) end
  end
end
-- likes: the later like time wins
flat = redis.call('ZRANGE', key(anon, 'likes'), 0, -1, 'WITHSCORES')
for i = 1, #flat, 2 do
  local old = tonumber(redis.call('ZSCORE', key(known, 'likes'), flat[i])) or 0
  if tonumber(flat[i + 1]) > old then
    redis.call('ZADD', key(known, 'likes'), flat[i + 1], flat[i])
  end
end
-- histories: both lists, newest first, capped
for part, cap in pairs(caps) do
  local a = redis.call('LRANGE', key(anon, part), 0, -1)
  if #a > 0 then
    local items = {}
    for _, v in ipairs(redis.call('LRANGE', key(known, part), 0, -1)) do
      table.insert(items, {stamp(v), v})
    end
    for _, v in ipairs(a) do table.insert(items, {stamp(v), v}) end
    table.sort(items, function(x, y) return x[1] > y[1] end)
    redis.call('DEL', key(known, part))
    for i = 1, math.min(#items, cap) do redis.call('RPUSH', key(known, part), items[i][2]) end
  end
end
-- every cookie that pointed at the anonymous profile now points at the known one
local aliases = redis.call('SMEMBERS', key(anon, 'aliases'))
table.insert(aliases, anon)
for _, vid in ipairs(aliases) do
  redis.call('SET', key(vid, 'alias'), known)
  redis.call('SADD', key(known, 'aliases'), vid)
end
drop_fp(anon)
for _, part in ipairs(parts) do redis.call('DEL', key(anon, part)) end
for _, part in ipairs(parts) do redis.call('PERSIST', key(known, part)) end
return {known, 'merged'}
"""
