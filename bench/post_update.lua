-- wrk script: each request posts one progress update as the member of a unit, with that
-- unit's own token, on one of that unit's open tasks. Targets come from the file named by
-- the TARGETS environment variable: one "token task_id" per line. With LIST_PATH set, each
-- request instead reads that list (a GET) with the unit's token: the unit's own tasks.
local targets = {}
local counter = 0
local threads = {}
ok_count = 0
bad_count = 0

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
  list_path = os.getenv("LIST_PATH")
end

function request()
  counter = counter + 1
  local t = targets[(counter % #targets) + 1]
  if list_path then
    return wrk.format("GET", list_path, {["Authorization"] = "Bearer " .. t[1]})
  end
  local body = '{"progress": 50, "work_done": "Cập nhật tiến độ trong giờ cao điểm"}'
  return wrk.format("POST", os.getenv("PATH_PREFIX") .. t[2] .. "/updates",
    {["Authorization"] = "Bearer " .. t[1], ["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok_count = ok_count + 1
  else
    bad_count = bad_count + 1
  end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("ok_count")
    bad = bad + thread:get("bad_count")
  end
  local errors = summary.errors
  -- The latency at every half percentile (and 99.9): runs measured one after the other
  -- can then be pooled into one distribution (bench/burst.py).
  local q = {}
  for i = 1, 199 do
    table.insert(q, string.format("%.2f", latency:percentile(i / 2) / 1000))
  end
  table.insert(q, string.format("%.2f", latency:percentile(99.9) / 1000))
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.3f, "ok": %d, "non2xx": %d, ' ..
    '"socket_errors": %d, "p50_ms": %.2f, "p95_ms": %.2f, "p99_ms": %.2f, ' ..
    '"q": [%s]}\n',
    summary.requests, summary.duration / 1e6, ok, bad,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, table.concat(q, ", ")))
end
