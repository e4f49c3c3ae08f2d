-- wrk's side of bench/load.py: the requests come from a file, one a line, fields
-- separated by tabs: method, path, "1" when each send needs a fresh Idempotency-Key,
-- body (may be empty), then "Name: value" headers. Every thread goes round the list
-- from its own place; the figures go out as one JSON line for Python to read.
--
--   wrk -t2 -c20 -d10s -s bench/wrk.lua http://127.0.0.1:8000 -- requests.tsv prefix 2
--
-- (the file, what every Idempotency-Key of this run starts with, the thread count)

local thread_number = 0

function setup(thread)
   thread_number = thread_number + 1
   thread:set("id", thread_number)
end

local requests = {}
local sent = 0
local prefix

local function split(line)
   local fields = {}
   for field in (line .. "\t"):gmatch("([^\t]*)\t") do
      fields[#fields + 1] = field
   end
   return fields
end

function init(args)
   prefix = args[2] .. "-" .. id
   for line in io.lines(args[1]) do
      local fields = split(line)
      local headers = {}
      for index = 5, #fields do
         local name, value = fields[index]:match("^([^:]+): (.*)$")
         headers[name] = value
      end
      local body = fields[4] ~= "" and fields[4] or nil
      local keyed = fields[3] == "1"
      requests[#requests + 1] = {
         method = fields[1], path = fields[2], headers = headers, body = body, keyed = keyed,
         -- a request without a key is the same bytes every time: build it once
         ready = not keyed and wrk.format(fields[1], fields[2], headers, body) or nil,
      }
   end
   sent = math.floor(#requests * (id - 1) / tonumber(args[3]))
end

function request()
   sent = sent + 1
   local r = requests[(sent - 1) % #requests + 1]
   if r.ready then
      return r.ready
   end
   r.headers["Idempotency-Key"] = prefix .. "-" .. sent
   return wrk.format(r.method, r.path, r.headers, r.body)
end

function done(summary, latency, _)
   local errors = summary.errors
   io.write(string.format(
      'BENCH-FIGURES {"requests": %d, "seconds": %f, "failed": %d, "errors": %d, '
         .. '"p50_ms": %f, "p99_ms": %f}\n',
      summary.requests, summary.duration / 1e6, errors.status,
      errors.connect + errors.read + errors.write + errors.status + errors.timeout,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
