#!/bin/bash
# The Ansible collection (contrib/ansible): Debian's ansible runs the
# roll-out playbook against this machine (connection local) and a second
# host made here, a network namespace with its own sshd, each patching
# the processes of its own build of a program.  Applied, again (no
# change), check mode, reverted, installed; a failing canary stops the
# roll-out before the second host.
. "$(dirname "$0")/lib.sh"

NS=ovupt$$
cleanup_ns() {
	[ -f "$WORK/sshd.pid" ] && kill "$(cat "$WORK/sshd.pid")" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$NS-a" 2>/dev/null
	cleanup
}
trap cleanup_ns EXIT

# two builds of one program, one per "host"
for h in 1 2; do
	mkdir -p "$WORK/h$h"
	cp "$V/libvictim.so" "$WORK/h$h/"
done
cp "$V/victim-pie" "$WORK/h1/victim"
id=$(readelf -n "$V/victim-pie" | awk '/Build ID/ {print $3}')
other_build "$V/victim-pie" "$WORK/h2/victim"
start_victim v1 "$WORK/h1/victim"
start_victim v2 "$WORK/h2/victim"
old=$(ask v1 call compute 3)

# host 2: a network namespace, a veth pair, sshd for root by key only
ip netns add "$NS" &&
	ip link add "$NS-a" type veth peer name "$NS-b" &&
	ip link set "$NS-b" netns "$NS" &&
	ip addr add 10.77.0.1/24 dev "$NS-a" && ip link set "$NS-a" up &&
	ip netns exec "$NS" ip addr add 10.77.0.2/24 dev "$NS-b" &&
	ip netns exec "$NS" ip link set "$NS-b" up &&
	ip netns exec "$NS" ip link set lo up
ok $? "a second host: network namespace $NS at 10.77.0.2"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/userkey"
cp "$WORK/userkey.pub" "$WORK/authorized_keys"
mkdir -p /run/sshd
cat >"$WORK/sshd_config" <<EOF
ListenAddress 10.77.0.2
HostKey $WORK/hostkey
PidFile $WORK/sshd.pid
AuthorizedKeysFile $WORK/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
EOF
ip netns exec "$NS" /usr/sbin/sshd -f "$WORK/sshd_config"
ok $? "... with its own sshd"

cat >"$WORK/inventory" <<EOF
[fleet]
local ansible_connection=local patch_object=$WORK/h1/victim
h2 ansible_host=10.77.0.2 ansible_user=root ansible_ssh_private_key_file=$WORK/userkey patch_object=$WORK/h2/victim
[fleet:vars]
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
ovup_bin=$OVUP
patch_src=$WORK/fix.c
patch_name=cve-7
EOF
patch fix <<'P'
int compute(int x) { return x * 1000; }
P
export ANSIBLE_COLLECTIONS_PATH=$ROOT/contrib/ansible ANSIBLE_NOCOLOR=1 ANSIBLE_HOST_KEY_CHECKING=False
export ANSIBLE_LOCAL_TEMP=$WORK/ansible-local ANSIBLE_REMOTE_TEMP=$WORK/ansible-remote
PLAY=$ROOT/contrib/ansible/examples/cve-rollout.yml
# play [EXTRA ARGS]: sets OUT and RC; recap HOST: "ok=N changed=N ... failed=N"
play() {
	OUT=$(ansible-playbook -i "$WORK/inventory" "$PLAY" "$@" 2>&1)
	RC=$?
}
recap() { sed -n "s/^$1 *: //p" <<<"$OUT" | tr -s ' '; }

# 1. applied: each host patches its own build's process
play
is "$RC" 0 "ansible-playbook applied: exit 0"
like "$(recap local)" "changed=1 .*failed=0" "... local: changed"
like "$(recap h2)" "changed=1 .*failed=0" "... h2, over ssh: changed"
is "$(ask v1 call compute 3).$(ask v2 call compute 3)" "3000.3000" "... both processes run the patch"
# 2. again: no change
play
is "$RC" 0 "the same playbook again: exit 0"
like "$(recap local)$(recap h2)" "changed=0 .*changed=0" "... no host changed (idempotent)"
# 3. check mode: says, changes nothing
play --check -e patch_state=reverted
like "$RC $(recap local)" "^0 .*changed=1" "--check reverted: local would change"
is "$(ask v1 call compute 3)" 3000 "... and nothing was reverted"
# 4. reverted
play -e patch_state=reverted
like "$RC $(recap local) $(recap h2)" "^0 .*changed=1 .*changed=1" "reverted: both hosts changed"
is "$(ask v1 call compute 3).$(ask v2 call compute 3)" "$old.$old" "... both processes run the old code"
play -e patch_state=reverted
like "$(recap local)$(recap h2)" "changed=0 .*changed=0" "... and again: no change"
# 5. installed (a prebuilt object, for watch or the boot service)
"$OVUP" build -q --object "$WORK/h1/victim" "$WORK/fix.c" -o "$WORK/fix.o" >/dev/null
export OVUP_LIB_DIR=$WORK/lib
play -l local -e patch_state=installed -e patch_src="$WORK/fix.o"
like "$RC $(recap local)" "^0 .*changed=1" "installed: changed"
[ -f "$WORK/lib/process/$id/cve-7.o" ]
ok $? "... the object is in the library"
play -l local -e patch_state=installed -e patch_src="$WORK/fix.o"
like "$(recap local)" "changed=0" "... and again: no change"
# 6. a canary that fails stops the roll-out: the second batch never runs
play -e patch_object=/nonexistent/victim
isnt_zero=$([ "$RC" != 0 ] && echo 0 || echo 1)
ok "$isnt_zero" "a failing canary: ansible-playbook fails"
like "$(recap local)" "failed=1" "... the canary host failed"
like "$OUT" "ovup apply --all: .*(--object /nonexistent/victim|No such file)" "... with ovup's own line"
unlike "$OUT" "TASK .*\n.*h2" "... h2 was not touched"
like "$(recap h2)" "^$|ok=0" "... h2 never ran"
is "$(ask v2 call compute 3)" "$old" "... and its process is unpatched"
# 7. a host that is down: reported unreachable, the others still patched
cat >"$WORK/down.ini" <<EOF
[fleet]
local ansible_connection=local patch_object=$WORK/h1/victim
down ansible_host=10.77.0.9 patch_object=$WORK/h2/victim ansible_user=root ansible_ssh_private_key_file=$WORK/userkey ansible_ssh_common_args='-o ConnectTimeout=3 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'
[fleet:vars]
ansible_python_interpreter=/usr/bin/python3
ovup_bin=$OVUP
patch_src=$WORK/fix.c
patch_name=cve-8
EOF
cat >"$WORK/plain.yml" <<'EOF'
- hosts: fleet
  gather_facts: false
  tasks:
    - ovup.live.patch:
        src: "{{ patch_src }}"
        name: "{{ patch_name }}"
        object: "{{ patch_object }}"
        ovup: "{{ ovup_bin }}"
EOF
OUT=$(ansible-playbook -i "$WORK/down.ini" "$WORK/plain.yml" 2>&1)
RC=$?
ok "$([ "$RC" != 0 ] && echo 0 || echo 1)" "a host that is down: ansible-playbook fails"
like "$(recap down)" "unreachable=1" "... that host is reported unreachable"
like "$(recap local)" "changed=1 .*failed=0" "... the other is patched all the same"
is "$(ask v1 call compute 3)" 3000 "... its process runs the patch"
"$OVUP" revert --all --object "$WORK/h1/victim" cve-8 >/dev/null 2>&1
done_testing
