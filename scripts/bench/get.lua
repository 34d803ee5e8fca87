-- GET with the bearer token from BENCH_TOKEN (nginx ignores the header, so
-- both targets receive byte-identical requests).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
wrk.headers["Accept"] = "application/json"
done = bench_done
