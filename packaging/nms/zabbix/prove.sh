#!/usr/bin/env bash
# Proves the Zabbix template (ipsec_vti_zabbix60.yaml) on a real Zabbix 6.0
# from Debian 12's packages: installs server, frontend and PostgreSQL if they
# are missing, runs them privately on 127.0.0.1 (own data directory, sockets
# and ports; nothing is enabled as a service), imports the template through
# the JSON-RPC API (configuration.import), creates a host with an SNMP
# interface to a private snmpd with vti-agentx behind it (the fixture agent
# examples/bench_agent.rs: 10 synthetic tunnels, two failing), waits for the
# tunnel discovery and checks that every discovered item got a value; then
# restarts the agent, whose threshold notifications go snmpd -> snmptrapd ->
# Zabbix's SNMP trapper file, and checks that the trap items got them.
#
#     sudo packaging/nms/zabbix/prove.sh        # KEEP=1 keeps the work dir
#
# Too heavy for every CI run (installs ~100 MB, takes minutes): run by hand
# after changing the template. Needs root (packages, users postgres/zabbix).
# Writes /etc/zabbix/zabbix.conf.php (the Debian frontend's only config
# path) for the run and restores what was there before.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
template="$here/ipsec_vti_zabbix60.yaml"
[ "$(id -u)" -eq 0 ] || { echo "prove.sh: run as root" >&2; exit 2; }

packages=(zabbix-server-pgsql zabbix-frontend-php php-fpm php-pgsql nginx-light postgresql snmpd snmp python3)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "==> installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
echo "==> zabbix_server $(zabbix_server -V | head -1)"

# A free loopback port below 32768 (zabbix_server's ListenPort must be).
free_port() {
    python3 - "$1" <<'PY'
import random, socket, sys
while True:
    port = random.randint(20000, 32000)
    s = socket.socket(socket.AF_INET, getattr(socket, sys.argv[1]))
    try:
        s.bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        pass
PY
}
pg_port=$(free_port SOCK_STREAM); zbx_port=$(free_port SOCK_STREAM)
web_port=$(free_port SOCK_STREAM); snmp_port=$(free_port SOCK_DGRAM)
work="$(mktemp -d /tmp/zabbix-prove.XXXXXX)"
chmod 755 "$work"
pgbin=/usr/lib/postgresql/15/bin
php_conf=/etc/zabbix/zabbix.conf.php
pids=()
zbx_pid=""

cleanup() {
    set +e
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    # zabbix_server needs its database to shut down: stop it first and wait.
    if [ -n "$zbx_pid" ]; then
        kill "$zbx_pid" 2>/dev/null
        for _ in $(seq 60); do kill -0 "$zbx_pid" 2>/dev/null || break; sleep 0.5; done
        if kill -0 "$zbx_pid" 2>/dev/null; then
            kill -9 "$zbx_pid" $(ps -o pid= --ppid "$zbx_pid") 2>/dev/null
        fi
    fi
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
    [ -f "$work/php-fpm.pid" ] && kill "$(cat "$work/php-fpm.pid")" 2>/dev/null
    [ -d "$work/pg" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m fast stop >/dev/null
    if [ -f "$work/zabbix.conf.php.saved" ]; then mv "$work/zabbix.conf.php.saved" "$php_conf"; else rm -f "$php_conf"; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "==> agent: private snmpd on 127.0.0.1:$snmp_port + fixture vti-agentx"
(cd "$repo" && cargo build --quiet --example bench_agent)
trap_port=$(free_port SOCK_DGRAM)
install -d -o zabbix -g zabbix "$work/zabbix"
# Zabbix's SNMP trapper reads a file of "ZBXTRAP <address>" records (what
# zabbix_trap_receiver.pl or SNMPTT write; Debian packages neither): a
# traphandle that appends each trap snmptrapd receives in that form.
cat >"$work/zbxtrap.sh" <<'HANDLER'
#!/bin/sh
# stdin from snmptrapd: host name, transport ("UDP: [a]:p->[b]:p"), varbinds.
read -r _host
read -r transport
addr=$(printf '%s\n' "$transport" | sed -n 's/^UDP: \[\([0-9.]*\)\].*/\1/p')
{ printf '%s ZBXTRAP %s\n' "$(date '+%H:%M:%S %Y/%m/%d')" "$addr"; cat; } >>"$1"
HANDLER
chmod 755 "$work/zbxtrap.sh"
cat >"$work/snmptrapd.conf" <<CONF
authCommunity execute public
traphandle default $work/zbxtrap.sh $work/zabbix/traps.log
CONF
snmptrapd -f -C -c "$work/snmptrapd.conf" -m '' -On -Lf "$work/snmptrapd.log" \
    "udp:127.0.0.1:$trap_port" &
pids+=($!)
cat >"$work/snmpd.conf" <<CONF
master agentx
agentXSocket unix:$work/master
rocommunity public 127.0.0.1
agentaddress udp:127.0.0.1:$snmp_port
trap2sink 127.0.0.1:$trap_port public
CONF
snmpd -f -Lf "$work/snmpd.log" -C -c "$work/snmpd.conf" -p "$work/snmpd.pid" &
pids+=($!)
sleep 1
start_agent() {
    "$repo/target/debug/examples/bench_agent" --master "unix:$work/master" --tunnels 10 --interval 2 \
        >>"$work/agent.log" 2>&1 &
    agent_pid=$!
    pids+=($agent_pid)
}
start_agent
for _ in $(seq 50); do
    snmpget -v2c -c public -On -t 1 -r 0 "127.0.0.1:$snmp_port" 1.3.6.1.4.1.8072.9999.9999.2741.1.1.4.0 2>/dev/null |
        grep -q Gauge32 && break
    sleep 0.2
done

echo "==> PostgreSQL on $work/pgsock:$pg_port"
install -d -o postgres -g postgres "$work/pg" "$work/pgsock"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -A trust -U postgres >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
    -o "-k $work/pgsock -p $pg_port -c listen_addresses=''" start >/dev/null
psql_() { psql -h "$work/pgsock" -p "$pg_port" -v ON_ERROR_STOP=1 -q "$@"; }
psql_ -U postgres -c "CREATE USER zabbix" -c "CREATE DATABASE zabbix OWNER zabbix"
echo "==> loading the Zabbix schema"
zcat /usr/share/zabbix-server-pgsql/{schema,images,data}.sql.gz | psql_ -U zabbix -d zabbix >/dev/null

echo "==> zabbix_server on 127.0.0.1:$zbx_port"
cat >"$work/zabbix_server.conf" <<CONF
LogFile=$work/zabbix/server.log
PidFile=$work/zabbix_server.pid
SocketDir=$work/zabbix
DBHost=$work/pgsock
DBPort=$pg_port
DBName=zabbix
DBUser=zabbix
ListenIP=127.0.0.1
ListenPort=$zbx_port
CacheUpdateFrequency=5
StartSNMPTrapper=1
SNMPTrapperFile=$work/zabbix/traps.log
StartPollers=2
StartPollersUnreachable=1
StartTrappers=1
StartPingers=0
StartDiscoverers=0
StartHTTPPollers=0
StartLLDProcessors=1
Timeout=4
CONF
touch "$work/zabbix_server.pid"; chown zabbix "$work/zabbix_server.pid" "$work"
zabbix_server -c "$work/zabbix_server.conf"
for _ in $(seq 50); do [ -s "$work/zabbix_server.pid" ] && break; sleep 0.2; done
zbx_pid=$(cat "$work/zabbix_server.pid")

echo "==> frontend (nginx + php-fpm) on 127.0.0.1:$web_port"
[ -f "$php_conf" ] && cp -p "$php_conf" "$work/zabbix.conf.php.saved"
cat >"$php_conf" <<CONF
<?php
\$DB['TYPE'] = 'POSTGRESQL';
\$DB['SERVER'] = '$work/pgsock';
\$DB['PORT'] = '$pg_port';
\$DB['DATABASE'] = 'zabbix';
\$DB['USER'] = 'zabbix';
\$DB['PASSWORD'] = '';
\$DB['SCHEMA'] = '';
\$ZBX_SERVER = '127.0.0.1';
\$ZBX_SERVER_PORT = '$zbx_port';
\$ZBX_SERVER_NAME = 'vti-agentx prove';
\$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;
CONF
chmod 644 "$php_conf"
cat >"$work/php-fpm.conf" <<CONF
[global]
pid = $work/php-fpm.pid
error_log = $work/php-fpm.log
daemonize = yes
[zabbix]
user = www-data
group = www-data
listen = $work/php.sock
listen.owner = www-data
listen.group = www-data
pm = static
pm.max_children = 2
php_value[memory_limit] = 256M
php_value[post_max_size] = 16M
php_value[max_execution_time] = 300
CONF
php-fpm8.2 -y "$work/php-fpm.conf"
install -d -o www-data "$work/nginx"
cat >"$work/nginx.conf" <<CONF
user www-data;
pid $work/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 64; }
http {
    access_log $work/nginx/access.log;
    client_body_temp_path $work/nginx/body;
    fastcgi_temp_path $work/nginx/fastcgi;
    proxy_temp_path $work/nginx/proxy;
    client_max_body_size 16m;
    server {
        listen 127.0.0.1:$web_port;
        root /usr/share/zabbix;
        location ~ \.php\$ {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_pass unix:$work/php.sock;
            fastcgi_read_timeout 300;
        }
    }
}
CONF
nginx -c "$work/nginx.conf"

echo "==> API: import, host, discovery"
api="http://127.0.0.1:$web_port/api_jsonrpc.php"
fail() { echo "--- zabbix_server.log (tail)"; tail -40 "$work/zabbix/server.log"; exit 1; }
python3 "$here/prove_api.py" discover "$api" "$template" "$snmp_port" || fail
echo "==> restarting the agent: its alarms start over and notify again"
kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true
start_agent
python3 "$here/prove_api.py" traps "$api" || fail
