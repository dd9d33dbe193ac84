-- wrk script of Benchmarks/api-bench.
--   wrk ... -s bench.lua URL -- DATA_FILE EXPECT [LIMIT_PER_THREAD]
-- DATA_FILE is a Lua chunk returning { {path, {header = value, ...}}, ... } (e.g. one request per user);
-- each thread cycles through it from its own starting point. EXPECT says which statuses count as success:
-- "2xx" (200-299), "304" (exactly 304: revalidation) or "2xx304" (either; the mixed soak). wrk itself only
-- reports statuses > 399, so the response hook counts every other status as a failure too. With LIMIT_PER_THREAD
-- a thread stops after that many responses (the soak counts requests, not seconds).
-- done() prints one line: BENCH_RESULT {json}.

local threads = {}
local counter = 1

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local requests = {}
local index = 0
local expect = "2xx"
local limit = 0
ok = 0
bad = 0
seen = 0
statuses = ""
local status_counts = {}

function init(args)
   local spec = dofile(args[1])
   expect = args[2] or "2xx"
   limit = tonumber(args[3] or "0") or 0
   for i, entry in ipairs(spec) do
      requests[i] = wrk.format("GET", entry[1], entry[2])
   end
   -- spread the threads over the list
   index = math.floor((#requests / (#threads > 0 and #threads or 2)) * ((id or 1) - 1)) % #requests
end

function request()
   index = index % #requests + 1
   return requests[index]
end

function response(status, headers, body)
   seen = seen + 1
   local good
   if expect == "304" then
      good = status == 304
   elseif expect == "2xx304" then
      good = (status >= 200 and status < 300) or status == 304
   else
      good = status >= 200 and status < 300
   end
   if good then
      ok = ok + 1
   else
      bad = bad + 1
      status_counts[status] = (status_counts[status] or 0) + 1
      local parts = {}
      for code, n in pairs(status_counts) do table.insert(parts, code .. ":" .. n) end
      statuses = table.concat(parts, ",")
   end
   if limit > 0 and seen >= limit then
      wrk.thread:stop()
   end
end

function done(summary, latency, requests_)
   local good, failed, codes = 0, 0, {}
   for _, thread in ipairs(threads) do
      good = good + thread:get("ok")
      failed = failed + thread:get("bad")
      local s = thread:get("statuses")
      if s and s ~= "" then table.insert(codes, s) end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"ok":%d,"bad":%d,"bad_statuses":"%s",' ..
      '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"status_errors":%d,' ..
      '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
      summary.requests, summary.duration, summary.bytes, good, failed, table.concat(codes, ","),
      e.connect, e.read, e.write, e.timeout, e.status,
      latency:percentile(50.0), latency:percentile(90.0), latency:percentile(99.0), latency.max))
end
