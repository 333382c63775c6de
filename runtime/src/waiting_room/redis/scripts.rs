//! The Lua scripts: one per operation, each one atomic and one round trip.
//!
//! Every key of an event shares the hash tag `{<event>}`, so a script touches one cluster slot.
//! `KEYS[1]` is always the event's queue key `wr:{<event>}:q`; the other keys of the event are
//! derived from its prefix (same tag, so the same slot). An event owns a fixed set of keys, so
//! a join adds fields and members to existing keys instead of creating keys. Layout under
//! `wr:{<event>}:`:
//!
//! | key  | type | contents                                                                 |
//! |------|------|--------------------------------------------------------------------------|
//! | `q`  | zset | waiting tokens, score = join sequence (server-side `HINCRBY`)            |
//! | `d`  | zset | every remembered token, score = its next deadline (ms, server clock)     |
//! | `t`  | hash | token → `state\|joined\|grant until\|reservation\|visitor key`          |
//! | `v`  | hash | visitor key (`u:<id>`, `s:<id>`) → current token: the join dedupe         |
//! | `r`  | hash | reservation → `until\|waiting token\|user id`; `u:<reservation>` → use nonce |
//! | `m`  | hash | `seq`, `admitted`, `waitsum`, token bucket `bt`/`bts`                    |
//! | `a`  | zset | admissions of the last minute (member = reservation token)               |
//! | `ch` | chan | pub/sub notices that positions may have changed                          |
//!
//! States: `w` waiting, `a` admitted, `l` left, `x` expired, `c` reservation used. The user id
//! is the visitor key without its two-character kind prefix.
//!
//! # Deadlines instead of key TTLs
//!
//! Hash fields carry no TTL, so one sorted set, `d`, holds every time-driven step: a waiting
//! token's score is its heartbeat deadline, an admitted token's is the end of its grant plus
//! the tombstone time, a finished token's is when it is forgotten. Every script except consume
//! first pops at most 64 due members (one `ZRANGE … BYSCORE … LIMIT` that finds
//! nothing in the common case): a due waiting token leaves the queue as expired and gets a
//! tombstone deadline; a due tombstone deletes the token's fields (and its reservation and
//! visitor entry). So memory is reclaimed lazily, in bounded steps, by the calls that come
//! anyway; an event nobody calls keeps its keys until it is called again.
//!
//! When that sweep found fewer due members than its limit, every waiting token still in `q`
//! has a future deadline, so status and admission skip reading it.
//!
//! # Cost
//!
//! A join runs nine commands (`TIME`, the sweep, `HSETNX`, `HINCRBY`, two `ZADD`, one `HSET`,
//! `ZCARD`, `ZCOUNT`) and writes four entries into existing structures; a status poll of a
//! waiting token runs five (`TIME`, the sweep, `ZRANK`, the heartbeat `ZADD`, `ZCOUNT`) and
//! reads no hash. Counted with callgrind on Redis 7.0 (instructions the server spends per call,
//! network included, 16-deep pipeline, 20k waiting):
//!
//! | call                                   | instructions |
//! |----------------------------------------|--------------|
//! | empty `EVALSHA`                        | 10k          |
//! | `INCR` + `ZADD` script (reference)     | 30k          |
//! | join (per-token keys, before)          | 136k         |
//! | join                                   | 100k         |
//! | status (per-token keys, before)        | 107k         |
//! | status                                 | 66k          |
//!
//! What remains is mostly fixed: each `redis.call` costs 3.5k–7k instructions of argument
//! conversion, dispatch and reply parsing before the command does any work (`TIME` is among
//! the dearest), and passing keys and arguments to a script costs about 7k. So the number of
//! commands, not their kind, sets the price; the scripts keep every step that a guarantee
//! needs (server clock, bounded sweep, dedupe, sequence, the two orders, the rate for ETAs).
//! Other choices that measurably help: numbers are formatted with `%d` (Lua's own conversion
//! uses `%.14g`, several times dearer), the common case (nothing due, a fresh join, a waiting
//! token's poll) returns before any helper closure is built (every call builds its closures
//! afresh), and the millisecond clock is cut from `TIME`'s text.
//!
//! Every script is safe to run twice with the same arguments (a client may resend a command
//! whose reply was lost): a join finds the visitor's token, an admission finds its grant, a
//! consume finds its own nonce.

use redis::Script;

/// Names, limits and the server clock, shared by every script.
///
/// Numbers handed to `redis.call` or joined into strings are formatted once with `%d`: Lua's
/// own number-to-string conversion goes through `%.14g`/`%.17g` and costs more than a cheap
/// command.
const PRELUDE: &str = r#"
local fmt = string.format
local P = string.sub(KEYS[1], 1, -2)
local Q, D, T, V = KEYS[1], P .. 'd', P .. 't', P .. 'v'
local EVICT, EVICT_TEXT = {evict}, '{evict}'
local TOMB = {tombstone_ms}
local clock = redis.call('TIME')
-- milliseconds as text straight from TIME's seconds and (unpadded) microseconds
local NOW = clock[1] .. string.sub('00000' .. clock[2], -6, -4)
local now = tonumber(NOW)
"#;

/// Leaving the queue for good. A packed state reads `st|joined|until|reservation|visitor key`.
const STATE: &str = r#"
-- takes a waiting token out of the queue, remembering it as `st` until forgotten
local function finish_waiting(tok, st, j, vk)
  redis.call('ZREM', Q, tok)
  redis.call('HSET', T, tok, st .. '|' .. j .. '|||' .. vk)
  redis.call('ZADD', D, fmt('%d', now + TOMB), tok)
  if redis.call('HGET', V, vk) == tok then redis.call('HDEL', V, vk) end
end
"#;

/// The due deadlines, at most `EVICT` of them. Usually none: then a script may take its fast
/// path, which runs before any helper closure is built.
const DUE: &str = r#"
local due = redis.call('ZRANGE', D, '-inf', NOW, 'BYSCORE', 'LIMIT', '0', EVICT_TEXT)
"#;

/// The bounded sweep of the due deadlines; `clear` tells whether it caught up.
const SWEEP: &str = r#"
local clear = true
do
  if #due > 0 then
    clear = #due < EVICT
    local forget, lapsed = {}, false
    for _, tok in ipairs(due) do
      local s = redis.call('HGET', T, tok)
      local st, j, rx, rt, vk
      if s then st, j, rx, rt, vk = string.match(s, '^(%a)|(%d*)|(%d*)|([^|]*)|(.*)$') end
      if st == 'w' then
        finish_waiting(tok, 'x', j, vk)
        lapsed = true
      else
        -- a tombstone is due: forget the token, its reservation and its visitor entry
        forget[#forget + 1] = tok
        if st then
          redis.call('HDEL', T, tok)
          if rt ~= '' then redis.call('HDEL', P .. 'r', rt, 'u:' .. rt) end
          if redis.call('HGET', V, vk) == tok then redis.call('HDEL', V, vk) end
        end
      end
    end
    if #forget > 0 then redis.call('ZREM', D, unpack(forget)) end
    if lapsed then redis.call('PUBLISH', P .. 'ch', 'x') end
  end
end
"#;

/// A token's {state, position, expires_ms}; renews a waiting token's heartbeat when hb > 0.
const DESCRIBE: &str = r#"
local function describe(tok, hb)
  local r = redis.call('ZRANK', Q, tok)
  if r then
    local dl
    if not clear then
      dl = tonumber(redis.call('ZSCORE', D, tok) or 0)
      if dl <= now then
        -- lapsed but not yet swept: a late poll must not revive it
        local j, vk = string.match(redis.call('HGET', T, tok), '^%a|(%d*)|%d*|[^|]*|(.*)$')
        finish_waiting(tok, 'x', j, vk)
        return {'x', 0, 0}
      end
    end
    if hb > 0 then
      dl = now + hb
      redis.call('ZADD', D, fmt('%d', dl), tok)
    elseif not dl then
      dl = tonumber(redis.call('ZSCORE', D, tok))
    end
    return {'w', r + 1, dl}
  end
  local s = redis.call('HGET', T, tok)
  if not s then return {'u', 0, 0} end
  local st, rx = string.match(s, '^(%a)|%d*|(%d*)|')
  if st == 'a' then
    rx = tonumber(rx)
    if rx <= now then return {'x', 0, rx} end
    return {'a', 0, rx}
  elseif st == 'c' then
    return {'l', 0, 0}
  elseif st == 'w' then
    -- never left waiting outside the queue; read it as expired
    return {'x', 0, 0}
  end
  return {st, 0, 0}
end
"#;

/// KEYS: q. ARGV: new token, visitor key, heartbeat ms.
/// Returns {token, state, position, expires_ms, admissions in window}.
///
/// The fast path: nothing to sweep and a visitor without a token.
const JOIN_FAST: &str = r#"
local tok, vk, hb = ARGV[1], ARGV[2], tonumber(ARGV[3])
-- claims the visitor's entry for the new token unless the visitor holds one (one command)
local claimed
if #due == 0 then
  claimed = redis.call('HSETNX', V, vk, tok)
  if claimed == 1 then
"#;

/// Closes [`JOIN_FAST`] after its copy of [`JOIN_QUEUE`].
const JOIN_FAST_END: &str = r#"
  end
end
"#;

/// The general path: after the sweep, a visitor who may hold a token.
const JOIN: &str = r#"
if claimed == nil then claimed = redis.call('HSETNX', V, vk, tok) end
if claimed == 0 then
  local existing = redis.call('HGET', V, vk)
  local d = describe(existing, hb)
  if d[1] == 'w' or d[1] == 'a' then
    return {existing, d[1], d[2], d[3], redis.call('ZCOUNT', P .. 'a', fmt('(%d', now - 60000), '+inf')}
  end
  -- the visitor's earlier token is finished: queue again with the new one
  redis.call('HSET', V, vk, tok)
end
"#;

/// Queues `tok` at the back and answers; ends both join paths.
const JOIN_QUEUE: &str = r#"
local seq = redis.call('HINCRBY', P .. 'm', 'seq', '1')
local dl = now + hb
redis.call('ZADD', Q, fmt('%d', seq), tok)
redis.call('ZADD', D, fmt('%d', dl), tok)
redis.call('HSET', T, tok, 'w|' .. NOW .. '|||' .. vk)
-- the newest sequence number is the last place: the position is the queue length
return {tok, 'w', redis.call('ZCARD', Q), dl,
  redis.call('ZCOUNT', P .. 'a', fmt('(%d', now - 60000), '+inf')}
"#;

/// KEYS: q. ARGV: heartbeat ms, tokens...
/// Returns {admissions in window, state1, position1, expires1, state2, ...}.
///
/// The fast path: nothing to sweep and one token that is waiting.
const STATUS_FAST: &str = r#"
local hb = tonumber(ARGV[1])
if #due == 0 and #ARGV == 2 then
  local r = redis.call('ZRANK', Q, ARGV[2])
  if r then
    local dl = now + hb
    redis.call('ZADD', D, fmt('%d', dl), ARGV[2])
    return {redis.call('ZCOUNT', P .. 'a', fmt('(%d', now - 60000), '+inf'), 'w', r + 1, dl}
  end
end
"#;

/// The general path of a status call.
const STATUS: &str = r#"
local out = {redis.call('ZCOUNT', P .. 'a', fmt('(%d', now - 60000), '+inf')}
for i = 2, #ARGV do
  local d = describe(ARGV[i], hb)
  out[#out + 1] = d[1]
  out[#out + 1] = d[2]
  out[#out + 1] = d[3]
end
return out
"#;

/// KEYS: q. ARGV: token, user id ('' = any), new reservation token, window, bucket capacity,
/// refill per second, reservation ms, heartbeat ms.
/// Returns {outcome, reservation token, valid until ms}.
const ADMIT: &str = r#"
local tok = ARGV[1]
local s = redis.call('HGET', T, tok)
if not s then return {'invalid', '', 0} end
local st, j, rx, rt, vk = string.match(s, '^(%a)|(%d*)|(%d*)|([^|]*)|(.*)$')
local id = string.sub(vk, 3)
if ARGV[2] ~= '' and ARGV[2] ~= id then return {'invalid', '', 0} end
if st == 'a' then
  if tonumber(rx) > now then return {'granted', rt, tonumber(rx)} end
  return {'expired', '', 0}
elseif st == 'x' then
  return {'expired', '', 0}
elseif st ~= 'w' then
  return {'left', '', 0}
end
local r = redis.call('ZRANK', Q, tok)
local lapsed = not r
if r and not clear then
  lapsed = tonumber(redis.call('ZSCORE', D, tok) or 0) <= now
end
if lapsed then
  finish_waiting(tok, 'x', j, vk)
  return {'expired', '', 0}
end
redis.call('ZADD', D, fmt('%d', now + tonumber(ARGV[8])), tok)
if r >= tonumber(ARGV[4]) then return {'turn', '', 0} end
local M = P .. 'm'
local cap = tonumber(ARGV[5])
local b = redis.call('HMGET', M, 'bt', 'bts')
local tokens = cap
if b[1] then
  tokens = math.min(cap, tonumber(b[1]) + (now - tonumber(b[2])) * tonumber(ARGV[6]) / 1000)
end
if tokens < 1 then
  redis.call('HSET', M, 'bt', tostring(tokens), 'bts', NOW)
  return {'rate', '', 0}
end
redis.call('HSET', M, 'bt', tostring(tokens - 1), 'bts', NOW)
local rtok = ARGV[3]
local until_ms = now + tonumber(ARGV[7])
local until_s = fmt('%d', until_ms)
redis.call('ZREM', Q, tok)
redis.call('HSET', T, tok, 'a|' .. j .. '|' .. until_s .. '|' .. rtok .. '|' .. vk)
-- the grant, its reservation and the visitor's entry are remembered past the grant's end
redis.call('ZADD', D, fmt('%d', until_ms + TOMB), tok)
redis.call('HSET', P .. 'r', rtok, until_s .. '|' .. tok .. '|' .. id)
redis.call('HINCRBY', M, 'admitted', '1')
redis.call('HINCRBY', M, 'waitsum', fmt('%d', now - tonumber(j)))
local A = P .. 'a'
redis.call('ZADD', A, NOW, rtok)
redis.call('ZREMRANGEBYSCORE', A, '-inf', fmt('%d', now - 60000))
redis.call('PUBLISH', P .. 'ch', 'a')
return {'granted', rtok, until_ms}
"#;

/// KEYS: q. ARGV: reservation token, user id, nonce.
/// Returns 'consumed' | 'used' | 'expired' | 'invalid'.
const CONSUME: &str = r#"
local R, rtok = P .. 'r', ARGV[1]
local h = redis.call('HMGET', R, rtok, 'u:' .. rtok)
if not h[1] then return 'invalid' end
local rx, wt, id = string.match(h[1], '^(%d+)|([^|]*)|(.*)$')
if id ~= ARGV[2] then return 'invalid' end
if h[2] then
  if h[2] == ARGV[3] then return 'consumed' end
  return 'used'
end
if tonumber(rx) <= now then return 'expired' end
redis.call('HSET', R, 'u:' .. rtok, ARGV[3])
local s = redis.call('HGET', T, wt)
if s then
  local rest, vk = string.match(s, '^%a(|%d*|%d*|[^|]*|(.*))$')
  redis.call('HSET', T, wt, 'c' .. rest)
  if redis.call('HGET', V, vk) == wt then redis.call('HDEL', V, vk) end
end
return 'consumed'
"#;

/// KEYS: q. ARGV: token. Returns 1 if this call removed the token, else 0.
const LEAVE: &str = r#"
local tok = ARGV[1]
local s = redis.call('HGET', T, tok)
if not s then return 0 end
local st, j, rx, rt, vk = string.match(s, '^(%a)|(%d*)|(%d*)|([^|]*)|(.*)$')
if st == 'w' then
  finish_waiting(tok, 'l', j, vk)
  redis.call('PUBLISH', P .. 'ch', 'l')
  return 1
elseif st == 'a' then
  redis.call('HSET', T, tok, 'l' .. string.sub(s, 2))
  -- the unused reservation dies with the grant
  redis.call('HSETNX', P .. 'r', 'u:' .. rt, 'left')
  if redis.call('HGET', V, vk) == tok then redis.call('HDEL', V, vk) end
  return 1
end
return 0
"#;

/// KEYS: q. Returns {waiting, admitted, total wait ms, admissions in window}.
const STATS: &str = r#"
local m = redis.call('HMGET', P .. 'm', 'admitted', 'waitsum')
return {redis.call('ZCARD', Q), tonumber(m[1] or 0), tonumber(m[2] or 0),
  redis.call('ZCOUNT', P .. 'a', fmt('(%d', now - 60000), '+inf')}
"#;

/// Loaded scripts; `Script` sends EVALSHA and falls back to EVAL on NOSCRIPT (after a Redis
/// restart or a failover the script cache is empty).
pub(crate) struct Scripts {
    pub join: Script,
    pub status: Script,
    pub admit: Script,
    pub consume: Script,
    pub leave: Script,
    pub stats: Script,
}

impl Scripts {
    /// Scripts that forget finished tokens `tombstone_ms` after they finish and sweep at most
    /// `evict` due deadlines per call.
    pub(crate) fn new(tombstone_ms: u64, evict: u64) -> Self {
        let prelude = PRELUDE
            .replace("{evict}", &evict.to_string())
            .replace("{tombstone_ms}", &tombstone_ms.to_string());
        let build = |parts: &[&str]| Script::new(&format!("{prelude}{}", parts.concat()));
        Self {
            join: build(&[
                DUE,
                JOIN_FAST,
                JOIN_QUEUE,
                JOIN_FAST_END,
                STATE,
                SWEEP,
                DESCRIBE,
                JOIN,
                JOIN_QUEUE,
            ]),
            status: build(&[DUE, STATUS_FAST, STATE, SWEEP, DESCRIBE, STATUS]),
            admit: build(&[DUE, STATE, SWEEP, ADMIT]),
            consume: build(&[CONSUME]),
            leave: build(&[DUE, STATE, SWEEP, LEAVE]),
            stats: build(&[DUE, STATE, SWEEP, STATS]),
        }
    }
}
