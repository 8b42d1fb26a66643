-- One request, repeated: configured from the environment so one script serves every endpoint.
--   BENCH_METHOD, BENCH_PATH, BENCH_TOKEN (bearer; empty: none), BENCH_BODY_FILE (POST body; optional),
--   BENCH_MAX_REQUESTS (each wrk thread stops after this many answers: the run is bounded in requests
--   as well as by wrk's -d duration).
-- done() prints one JSON line (prefixed "BENCH_JSON ") that bench/load.py reads.
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local token = os.getenv("BENCH_TOKEN") or ""
local body_file = os.getenv("BENCH_BODY_FILE") or ""
local max_requests = tonumber(os.getenv("BENCH_MAX_REQUESTS") or "0")

local body = nil
if body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  body = f:read("*a")
  f:close()
end

local headers = {}
if token ~= "" then headers["Authorization"] = "Bearer " .. token end
if body then headers["Content-Type"] = "application/fhir+json" end
local request_bytes = wrk.format(method, path, headers, body)

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  answered = 0
  unexpected = 0
end

function request()
  return request_bytes
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 400 then unexpected = unexpected + 1 end
  if max_requests > 0 and answered >= max_requests then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("unexpected") end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "seconds": %.3f, "rps": %.1f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"max_ms": %.3f, "errors_status": %d, "errors_socket": %d}\n',
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
