# Shared shell helpers for the scripts in this folder.

# Prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until a Redis server answers PING: wait_for_redis PORT
wait_for_redis() {
  for _ in $(seq 1 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis on port $1 did not start" >&2
  return 1
}

# nginx config answering a static 200 with 2+ workers, everything under WORK:
# nginx_static_conf WORK PORT > WORK/nginx.conf   (the benchmarks' ceiling)
nginx_static_conf() {
  mkdir -p "$1/nginx"
  cat <<NGINX
worker_processes auto;
pid $1/nginx.pid;
error_log $1/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/nginx; proxy_temp_path $1/nginx; fastcgi_temp_path $1/nginx;
  uwsgi_temp_path $1/nginx; scgi_temp_path $1/nginx;
  server { listen 127.0.0.1:$2; location / { return 200 '{"ok":true}'; } }
}
NGINX
}

# nginx answering that static 200 on a free port; sets nginx_port and waits
# until it answers. Uses $work and pids from bench_workdir.
start_bench_nginx() {
  nginx_port=$(free_port)
  nginx_static_conf "$work" "$nginx_port" >"$work/nginx.conf"
  nginx -c "$work/nginx.conf" -g 'daemon off;' &
  pids+=($!)
  for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/" && return 0; sleep 0.1; done
  echo "nginx did not start" >&2
  return 1
}

# Fields of a "RESULT requests=.. duration_us=.. p50_us=.." line from the wrk scripts.
wrk_field() { echo "$1" | sed -n "s/.* $2=\([0-9]*\).*/\1/p"; }
wrk_rate() { awk -v r="$(wrk_field "$1" requests)" -v d="$(wrk_field "$1" duration_us)" 'BEGIN{printf "%.0f", r/(d/1e6)}'; }
# CPU time (user + system) a process has used so far, in ms: the cost per
# message stays comparable when other work shares the machine.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"; }
# wrk_line LABEL RESULT UNIT: one aligned summary line.
wrk_line() {
  printf '  %-28s %10s %s  p50 %7.2f ms  p99 %7.2f ms\n' "$1" "$(wrk_rate "$2")" "$3" \
    "$(awk -v v="$(wrk_field "$2" p50_us)" 'BEGIN{print v/1000}')" "$(awk -v v="$(wrk_field "$2" p99_us)" 'BEGIN{print v/1000}')"
}

# A temporary folder for one benchmark run: sets work and pids; at exit every
# process in pids is stopped and the folder removed. Globals on purpose: the
# EXIT trap must still see them after the function that called this returned.
bench_workdir() {
  work=$(mktemp -d)
  pids=()
  trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"' EXIT
}

# Starts pasokh in the background (output in $work/pasokh.out) and waits until
# it listens: start_bench_pasokh BINARY CONFIG
start_bench_pasokh() {
  "$1" --config "$2" >"$work/pasokh.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q listening "$work/pasokh.out" && return 0; sleep 0.1; done
  cat "$work/pasokh.out" >&2
  return 1
}

# A throwaway redis-server for a benchmark, with the production settings of
# deploy/redis.conf (AOF, fsync every second) and its data in $1;
# BENCH_REDIS_ARGS overrides settings ("--stream-node-max-bytes 4096"). Sets
# redis_port and adds its pid to the caller's pids array.
start_bench_redis() {
  redis_port=$(free_port)
  redis-server "$(dirname "${BASH_SOURCE[0]}")/../deploy/redis.conf" --port "$redis_port" --bind 127.0.0.1 \
    --dir "$1" ${BENCH_REDIS_ARGS:-} >"$1/redis.log" 2>&1 &
  pids+=($!)
  wait_for_redis "$redis_port"
}
