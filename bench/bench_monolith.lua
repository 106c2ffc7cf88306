-- wrk script for bench_monolith.py, configured through the environment:
--   BENCH_MODE        "get" (a random path of BENCH_PATHS per request) or "order"
--   BENCH_PATHS       comma-separated paths for "get"
--   BENCH_TOKEN, BENCH_ADDRESS_ID, BENCH_PRODUCT_IDS   for "order": one line of one unit of
--                     a random product of the list, so placements spread over many stock rows
-- done() prints one line, "BENCH_RESULT {json}", that the Python side parses.

local function split(text)
  local items = {}
  for item in string.gmatch(text or "", "[^,]+") do
    items[#items + 1] = item
  end
  return items
end

local mode = os.getenv("BENCH_MODE") or "get"
local paths = split(os.getenv("BENCH_PATHS") or "/healthz")
local product_ids = split(os.getenv("BENCH_PRODUCT_IDS"))
local order_headers = {
  ["Authorization"] = "Token " .. (os.getenv("BENCH_TOKEN") or ""),
  ["Content-Type"] = "application/json",
}
local order_body = '{"shipping_address_id": ' .. (os.getenv("BENCH_ADDRESS_ID") or "0")
  .. ', "lines": [{"product_id": %s, "quantity": 1}]}'

function init(args)
  -- Each wrk thread has its own Lua state; seed each differently.
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
  if mode == "order" then
    local body = string.format(order_body, product_ids[math.random(#product_ids)])
    return wrk.format("POST", "/api/v1/orders/", order_headers, body)
  end
  return wrk.format("GET", paths[math.random(#paths)])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "status_errors": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write + errors.timeout
  ))
end
