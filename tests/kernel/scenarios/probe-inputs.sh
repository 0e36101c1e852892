# SPDX-License-Identifier: MIT
# Kernel scenario probe-inputs: damaged inputs (made on the host by
# probe-inputs.host.sh): an object without .ovup.build, objects cut short,
# random bytes; each refused with the reason.
# patches: cmdline

klog_add 'panic'
run apply -k /tmp/nobuild.o
is "$RC" 1 "an object without .ovup.build: refused"
like "$ERR" "has no .ovup.build section.*build it with 'ovup build -k'" "... saying to build it with ovup build -k"
for f in /tmp/cut*.o; do
	run apply -k "$f"
	is "$RC" 1 "$f (truncated): refused"
	like "$ERR" "truncated" "... called truncated"
	unlike "$ERR" "defines no function|kernel headers" "... not 'no function' or 'no headers'"
done
for f in /tmp/random.o /tmp/random.c; do
	run apply -k "$f"
	is "$RC" 1 "$f (random bytes): refused"
	like "$ERR" "neither C.* nor an ELF object" "... called neither C nor ELF"
	unlike "$ERR" "kernel headers" "... not 'no kernel headers'"
done
is "$(text "$FCMD")" "$T0" "kernel text untouched by the refused inputs"
