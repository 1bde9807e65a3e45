-- Each wrk connection behaves as one client polling a job: a request, then a pause of
-- POLL_MS on average (default 500 ms), jittered ±50% so that the pollers do not all fire in
-- the same millisecond. Without this script wrk polls back to back.
local pause = tonumber(os.getenv("POLL_MS") or "500")
function delay()
    return math.floor(pause * (0.5 + math.random()))
end
