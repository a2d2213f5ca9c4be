-- wrk script for the burst across the cutoff (bench/burst.py): one connection per thread
-- (-t N -c N), so that each thread's request() and response() alternate and every request's
-- own latency is known. Each thread appends "sent_at latency status" (seconds since the
-- epoch, real time; seconds; HTTP status) to its own file in the OUT directory, a line per
-- request, flushed as it goes: the run is stopped from outside once the cutoff is done.
-- Targets as in post_update.lua: one "token task_id" per line in the TARGETS file.
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clk_id, timespec *tp);
]]
local ts = ffi.new("timespec")
local function now()
  ffi.C.clock_gettime(0, ts)  -- CLOCK_REALTIME
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local threads = {}
local targets = {}
local counter = 0
local sent_at = 0
local out = nil

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("TARGETS")) do
    local token, task = line:match("(%S+)%s+(%S+)")
    table.insert(targets, {token, task})
  end
  counter = id * 7919
  out = io.open(os.getenv("OUT") .. "/thread-" .. id .. ".log", "w")
  out:setvbuf("line")
end

function request()
  counter = counter + 1
  local t = targets[(counter % #targets) + 1]
  sent_at = now()
  return wrk.format("POST", "/api/v1/tasks/" .. t[2] .. "/updates",
    {["Authorization"] = "Bearer " .. t[1], ["Content-Type"] = "application/json"},
    '{"progress": 50, "work_done": "Cập nhật tiến độ quanh giờ chốt"}')
end

function response(status, headers, body)
  out:write(string.format("%.6f %.6f %d\n", sent_at, now() - sent_at, status))
end
