#!/bin/bash
# A real program from Debian patched live: nginx-light's worker answers
# 403 after ngx_http_send_response is replaced, and 200 again after the
# revert, observed with curl.  Each nginx process is its own target.
. "$(dirname "$0")/lib.sh"

NGINX=/usr/sbin/nginx
if [ ! -x "$NGINX" ] || ! command -v curl >/dev/null; then
	pass "# SKIP nginx-light or curl is not installed (make check installs them)"
	done_testing
fi
port=$((20000 + $$ % 20000))
mkdir -p "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<C
daemon off;
master_process on;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path $WORK/nginx/tmp/body;
	proxy_temp_path $WORK/nginx/tmp/proxy;
	fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
	uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
	scgi_temp_path $WORK/nginx/tmp/scgi;
	server {
		listen 127.0.0.1:$port;
		location / { return 200 "hello from nginx\n"; }
	}
}
C
"$NGINX" -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
MASTER=$!
track "$MASTER"
for i in $(seq 100); do
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null)
	[ "$code" = 200 ] && break
	sleep 0.05
done
is "$code" 200 "nginx answers 200 before the patch"
WORKER=$(pgrep -P "$MASTER" | head -n 1)
like "$WORKER" "^[0-9]+$" "found the worker process"
track "$WORKER"

patch forbid <<'P'
/* A fix written without nginx's headers: only the ABI matters. */
typedef long ngx_int_t;
typedef unsigned long ngx_uint_t;
#define NGX_HTTP_FORBIDDEN 403

ngx_int_t ngx_http_send_response(void *r, ngx_uint_t status, void *ct, void *cv)
{
	(void)r; (void)status; (void)ct; (void)cv;
	return NGX_HTTP_FORBIDDEN;
}
P
run_ovup apply -p "$WORKER" "$WORK/forbid.c"
is "$RC" 0 "apply to the running nginx worker"
like "$OUT" "ngx_http_send_response +nginx" "... replacing ngx_http_send_response in nginx"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" 403 "the worker now answers 403"
body=$(curl -s "http://127.0.0.1:$port/")
unlike "$body" "hello from nginx" "the old answer is gone"
run_ovup list -p "$MASTER"
like "$OUT" "no patches applied" "the master is another target and untouched"
run_ovup revert -p "$WORKER"
is "$RC" 0 "revert"
is "$(curl -s "http://127.0.0.1:$port/")" "hello from nginx" "200 and the old answer are back"
is "$(ls /proc/$WORKER >/dev/null 2>&1 && echo alive)" alive "the worker never restarted"
kill "$MASTER"
wait "$MASTER" 2>/dev/null
done_testing
