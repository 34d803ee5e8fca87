-- POST /v6/Token with the right password (argon2-bound by design).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=password&username=" .. os.getenv("BENCH_ADMIN_USER") ..
  "&password=" .. os.getenv("BENCH_ADMIN_PASSWORD_URLENC")
done = bench_done
