-- wrk script: round-robin over the request paths listed in a file (one per line,
-- given as wrk's extra argument), count non-2xx answers, and print one JSON line
-- "REPORT {...}" with requests, duration, errors and latency percentiles.

local paths = {}
local index = 0
local non_2xx = 0

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then paths[#paths + 1] = line end
  end
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end

function response(status, headers, body)
  if status < 200 or status >= 300 then non_2xx = non_2xx + 1 end
end

-- Per-thread counters are collected through the thread objects.
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + (thread:get("non_2xx") or 0) end
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout + bad
  io.write(string.format(
    'REPORT {"requests": %d, "seconds": %.3f, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration / 1e6, errors,
    latency:percentile(50), latency:percentile(99)))
end
