-- One wrk script for every scenario, steered by environment variables:
--   BENCH_MODE   get | create | mix   (mix: 90% GET BENCH_PATH, 10% creates)
--   BENCH_PATH   path and query of the GET
--   BENCH_POST   path that creates a contact
--   BENCH_AUTH   Authorization header value, if any
--   BENCH_TAG    one digit that keeps this scenario's phones apart from the others'
-- done() prints one JSON line that run.sh collects.

local mode = os.getenv("BENCH_MODE") or "get"
-- A misspelt mode must stop wrk, not measure some other scenario under its name.
assert(mode == "get" or mode == "create" or mode == "mix",
  "BENCH_MODE must be get, create or mix, not " .. mode)
local get_path = os.getenv("BENCH_PATH") or "/"
local post_path = os.getenv("BENCH_POST") or "/"
local auth = os.getenv("BENCH_AUTH")
local tag = os.getenv("BENCH_TAG") or "0"

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local counter = 0
local get_request

function init(args)
  if auth and auth ~= "" then
    wrk.headers["Authorization"] = auth
  end
  wrk.path = get_path
  if mode == "mix" then
    -- The GET never changes: the mix sends these bytes rather than formatting it anew.
    get_request = wrk.format()
  end
end

-- 14 digits after "+": never one of the data set's 13-digit numbers, and unique per
-- scenario (tag), thread and request.
local function create_request()
  counter = counter + 1
  local phone = string.format("+629%s%d%09d", tag, thread_id, counter)
  local body = string.format(
    '{"phone":"%s","name":"Bench User %d","email":"bench%d@example.com",' ..
    '"tags":["lead","wrk"],"custom_fields":{"source":"wrk","n":%d}}',
    phone, counter, counter, counter)
  -- wrk.format replaces wrk.headers with the table it is given, so the key goes in too.
  local headers = {["Content-Type"] = "application/json"}
  if auth and auth ~= "" then
    headers["Authorization"] = auth
  end
  return wrk.format("POST", post_path, headers, body)
end

-- A GET scenario defines no request(): wrk then formats the request once, after
-- init(), and sends the same bytes on every connection. Calling into Lua for each
-- request would spend the load generator's share of the two cores, which the server
-- under test shares, on formatting one constant string again and again.
if mode == "create" then
  request = create_request
elseif mode == "mix" then
  function request()
    if math.random(10) == 1 then
      return create_request()
    end
    return get_request
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
    '"errors":%d,"non2xx":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout + e.status, e.status))
end
