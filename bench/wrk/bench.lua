-- One wrk script for every bench run, configured by environment variables (see bench/run.py):
--   BENCH_METHOD, BENCH_PATH   the request line
--   BENCH_HEADERS              "Name: value" lines
--   BENCH_BODY                 the body; "{value}" is replaced by the next value
--   BENCH_VALUES, BENCH_THREADS  a file of single-use values (codes, refresh tokens), one per
--                              request, dealt out between the threads. When a thread's share
--                              runs out it sends nothing more, and the report's value_rate is
--                              the rate over the time the values lasted.
--   BENCH_CAPTURE, BENCH_OUTPUT  a Lua pattern captured from each response's Location header
--                              (else its body), written to BENCH_OUTPUT when the run is done
--   BENCH_REPORT               where the JSON summary is written

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *now);
]]
local timespec = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

local function header_table(text)
  local headers = {}
  for line in string.gmatch(text or "", "[^\n]+") do
    local name, value = string.match(line, "^([^:]+):%s*(.*)$")
    if name then headers[name] = value end
  end
  return headers
end

function init(args)
  method = os.getenv("BENCH_METHOD") or "GET"
  path = os.getenv("BENCH_PATH") or "/"
  headers = header_table(os.getenv("BENCH_HEADERS"))
  body = os.getenv("BENCH_BODY")
  capture = os.getenv("BENCH_CAPTURE")
  captured = {}
  values = nil
  local file = os.getenv("BENCH_VALUES")
  if file then
    values = {}
    local count = tonumber(os.getenv("BENCH_THREADS") or "1")
    local n = 0
    for line in io.lines(file) do
      if n % count == id - 1 then table.insert(values, line) end
      n = n + 1
    end
  end
  index, answered, exhausted = 0, 0, false
  started_at, finished_at = 0, 0
  fixed = nil
  if not values then
    fixed = wrk.format(method, path, headers, body)
    delay = nil -- wrk then skips calling it
  end
  if not capture and not values then response = nil end -- wrk then skips parsing responses
end

function delay()
  -- Once the values are used up, hold back until the run ends rather than send filler.
  if exhausted then return 3600 * 1000 end
  return 0
end

function request()
  if fixed then return fixed end
  if started_at == 0 then started_at = now() end
  index = index + 1
  local value = values[index]
  if value == nil then
    exhausted = true
    return wrk.format("GET", "/ping") -- never sent: delay() holds it past the end
  end
  local filled = body and string.gsub(body, "{value}", function() return value end)
  return wrk.format(method, path, headers, filled)
end

function response(status, response_headers, response_body)
  if values then
    answered = answered + 1
    if answered == #values then finished_at = now() end
  end
  if capture then
    local source = response_headers["Location"] or response_body or ""
    local value = string.match(source, capture)
    if value then table.insert(captured, value) end
  end
end

function done(summary, latency, requests)
  local answered_total, first, last = 0, nil, 0
  for _, thread in ipairs(threads) do
    local started, finished = thread:get("started_at"), thread:get("finished_at")
    if started and started > 0 then
      if finished == 0 then finished = started + summary.duration / 1e6 end
      answered_total = answered_total + thread:get("answered")
      if first == nil or started < first then first = started end
      if finished > last then last = finished end
    end
  end
  local value_rate = 0
  if first and last > first then value_rate = answered_total / (last - first) end
  local errors = summary.errors
  local report = string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "value_rate": %.1f, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    value_rate, errors.connect, errors.read, errors.write, errors.status, errors.timeout)
  local out = io.open(os.getenv("BENCH_REPORT"), "w")
  out:write(report)
  out:close()
  local output = os.getenv("BENCH_OUTPUT")
  if output then
    local file = io.open(output, "w")
    for _, thread in ipairs(threads) do
      for _, value in ipairs(thread:get("captured")) do file:write(value, "\n") end
    end
    file:close()
  end
end
