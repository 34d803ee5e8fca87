-- The add-then-delete cycle: POST /v6/Organizations for this connection's own
-- tenant, then DELETE the id it returned, and again. Run with as many wrk
-- threads as connections: each thread's Lua state then serves exactly one
-- connection, so the alternation is exact and each request can be timed.
-- Per-request samples go to BENCH_SAMPLES (one "kind value" per line):
-- post/delete client latency in microseconds, and the Server-Timing m365/app/
-- total durations (ms) of each POST.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local token = os.getenv("BENCH_TOKEN")
local password = os.getenv("BENCH_SIM_PASSWORD")
local base = tonumber(os.getenv("BENCH_TENANT_BASE"))

-- main state: give each thread its tenant index
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("tenant_index", base + #threads)
end

-- thread state
post_lat, del_lat, st_m365, st_app, st_total, odd = {}, {}, {}, {}, {}, {}
local pending, kind, t0, body, hpost, hdel

init = function(args)
  local account = "admin@synth" .. tenant_index .. ".onmicrosoft.com"
  body = '{"type":"Office365","region":"Worldwide","isExchangeOnline":true,' ..
    '"isSharePointOnline":true,"isTeamsChatsOnline":false,' ..
    '"exchangeOnlineSettings":{"account":"' .. account .. '","password":"' .. password .. '"},' ..
    '"sharePointOnlineSettings":{"account":"' .. account .. '","password":"' .. password .. '"}}'
  hpost = { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
  hdel = { ["Authorization"] = "Bearer " .. token }
end

request = function()
  t0 = now_us()
  if pending then
    kind = "delete"
    return wrk.format("DELETE", "/v6/Organizations/" .. pending, hdel)
  end
  kind = "post"
  return wrk.format("POST", "/v6/Organizations", hpost, body)
end

response = function(status, headers, resp)
  local dt = now_us() - t0
  if kind == "post" then
    if status == 200 then
      post_lat[#post_lat + 1] = dt
      pending = resp:match('"id"%s*:%s*"([^"]+)"')
      local st = headers["server-timing"] or headers["Server-Timing"]
      if st then
        for name, dur in st:gmatch("(%w+);dur=([%d%.]+)") do
          local v = tonumber(dur)
          if name == "m365" then st_m365[#st_m365 + 1] = v
          elseif name == "app" then st_app[#st_app + 1] = v
          elseif name == "total" then st_total[#st_total + 1] = v end
        end
      end
    else
      odd[#odd + 1] = "post " .. status
    end
  else
    if status == 204 then del_lat[#del_lat + 1] = dt else odd[#odd + 1] = "delete " .. status end
    pending = nil
  end
end

done = function(summary, latency, requests)
  bench_done(summary, latency, requests)
  local f = assert(io.open(os.getenv("BENCH_SAMPLES"), "w"))
  for _, t in ipairs(threads) do
    for _, name in ipairs({ "post_lat", "del_lat", "st_m365", "st_app", "st_total", "odd" }) do
      for _, v in ipairs(t:get(name)) do f:write(name, " ", tostring(v), "\n") end
    end
  end
  f:close()
end
