#!/bin/bash
# `ovup info PATCH.o`: what an object from `ovup build` replaces, uses and
# was built for, as text and JSON, read from the file alone (no target,
# the file unchanged, still applicable); anything else refused in one line.
. "$(dirname "$0")/lib.sh"

start_victim v "$V/victim-pie"
P=$VPID

patch fix <<'P'
#include <ovup.h>
#include <string.h>
OVUP_OBJECT(compute, "victim-pie");
extern int offset;                      /* the target's */
extern __thread int tls_exe;            /* the target's, thread-local */
static const char msg[] = "patched";
static int calls;                       /* bss */
static int table[4] = { 1, 2, 3, 4 };   /* data */
int compute(int x)
{
	calls++;
	if (x < 0)
		return (int)strlen(msg) + table[x & 3]++ + offset + tls_exe;
	return OVUP_ORIG(compute)(x) + 1000;
}
P
run_ovup build -p "$P" --name fixer -o "$WORK/fix.o" "$WORK/fix.c"
is "$RC" 0 "ovup build writes the object"
before=$(sha256sum <"$WORK/fix.o")

# 1. text
run_ovup info "$WORK/fix.o"
is "$RC" 0 "info: exit 0, with no target"
is "$ERR" "" "... nothing on stderr"
like "$OUT" "^patch 'fixer' from $WORK/fix\.c$" "the name (--name) and the source file"
like "$OUT" "^built for a process$" "the target kind"
bid=$(readelf -n "$V/victim-pie" | sed -n 's/.*Build ID: //p')
like "$OUT" "^  $V/victim-pie build-id $bid$" "victim-pie's build-id, as readelf -n shows it"
fsize=$(readelf -sW "$WORK/fix.o" | awk '$8 == "compute" { print $3 }')
like "$OUT" "^  compute \($fsize bytes, calls the original, object victim-pie\)$" \
	"compute: its size, OVUP_ORIG, the selector"
like "$OUT" "^uses 3 symbols:$" "three symbols used"
like "$OUT" "^  strlen$" "... a libc function"
like "$OUT" "^  offset$" "... a target variable"
like "$OUT" "^  tls_exe \(thread-local\)$" "... a thread-local one, marked"
unlike "$OUT" "__ovup_orig_" "the OVUP_ORIG symbol is no symbol used"
# the sizes as readelf -S shows the sections (hex)
secsum() {
	local n=0 size
	for size in $(readelf -SW "$WORK/fix.o" | sed 's/^ *\[ *[0-9]*\] //' |
		awk -v want="$1" '$1 !~ /^\.ovup\./ && $7 ~ /A/ {
			k = $7 ~ /X/ ? "text" : $7 !~ /W/ ? "rodata" : $2 == "NOBITS" ? "bss" : "data"
			if (k == want) print $5 }'); do
		n=$((n + 0x$size))
	done
	echo $n
}
text=$(secsum text) rodata=$(secsum rodata) data=$(secsum data) bss=$(secsum bss)
like "$OUT" "^its own code and data: text $text, rodata $rodata, data $data, bss $bss bytes$" \
	"the section sizes ($text, $rodata, $data, $bss)"
ok $([ "$bss" -ge 4 ] && [ "$data" -ge 16 ] && [ "$rodata" -ge 8 ]; echo $?) \
	"... which hold the static variables"

# 2. JSON: the same facts
run_ovup info --json "$WORK/fix.o"
is "$RC" 0 "info --json: exit 0"
j=$(perl -MJSON::PP -e '
	my $j = decode_json(join "", <STDIN>);
	my ($f) = @{$j->{functions}};
	my %u = map { $_->{name} => $_ } @{$j->{uses}};
	print join(" ", $j->{patch}, $j->{source}, $j->{target},
		$j->{built_for}[0]{build_id}, $f->{name}, $f->{size},
		$f->{calls_original} ? "orig" : "-", $f->{object},
		$u{tls_exe}{thread_local} ? "tls" : "-", $u{strlen}{versioned} ? "v" : "-",
		@{$j->{sizes}}{qw(text rodata data bss)},
		defined $j->{kernel_release} ? "k" : "-"), "\n"' <<<"$OUT")
is "$j" "fixer $WORK/fix.c process $bid compute $fsize orig victim-pie tls - $text $rodata $data $bss -" \
	"... as one JSON object"

# 3. read-only: the file is unchanged and still applies
is "$(sha256sum <"$WORK/fix.o")" "$before" "info changed no byte of the object"
run_ovup apply -p "$P" "$WORK/fix.o"
is "$RC" 0 "the object still applies"
is "$(ask v call compute 1)" 1003 "... and runs (OVUP_ORIG + 1000)"
run_ovup revert -p "$P"
is "$(ask v call compute 1)" 3 "reverted"

# 4. a selector by position, and a versioned symbol
patch pos <<'P'
#include <ovup.h>
OVUP_SYMPOS(secret, 1);
__asm__(".symver memcpy_old, memcpy@GLIBC_2.2.5");
extern void *memcpy_old(void *, const void *, unsigned long);
int secret(int x) { int y; memcpy_old(&y, &x, sizeof(y)); return y; }
P
run_ovup build -p "$P" -o "$WORK/pos.o" "$WORK/pos.c"
is "$RC" 0 "a patch with OVUP_SYMPOS and a versioned symbol builds"
run_ovup info "$WORK/pos.o"
like "$OUT" "^patch 'pos' from " "the default name: the file name"
like "$OUT" "^  secret \([0-9]+ bytes, sympos 1\)$" "the sympos selector"
like "$OUT" "^  memcpy@GLIBC_2\.2\.5 \(versioned\)$" "the versioned symbol, marked"

# 5. a kernel object records the kernel release it was built for
rel=$(ls /usr/src | sed -n 's/^linux-headers-\(.*-amd64\)$/\1/p' | head -n 1)
if [ -n "$rel" ]; then
	patch kfix <<'P'
#include <linux/seq_file.h>
int cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "patched\n");
	return 0;
}
P
	run_ovup build -k -o "$WORK/kfix.o" "$WORK/kfix.c"
	is "$RC" 0 "build -k writes a kernel object ($rel)"
	run_ovup info "$WORK/kfix.o"
	like "$OUT" "^built for kernel $rel, build " "the kernel release"
	like "$OUT" "^  cmdline_proc_show \([0-9]+ bytes\)$" "the function it replaces"
	like "$OUT" "^  seq_puts$" "the kernel function it uses"
	run_ovup info --json "$WORK/kfix.o"
	is "$(perl -MJSON::PP -e '$j = decode_json(join "", <STDIN>);
		print "$j->{target} $j->{kernel_release} ", scalar @{$j->{built_for}}' <<<"$OUT")" \
		"kernel $rel 0" "... in JSON"
else
	ok 0 "# SKIP no linux-headers-*-amd64 in /usr/src"
fi

# 6. refusals: one line, exit 1
refused() {
	run_ovup info "$1"
	is "$RC" 1 "$2: exit 1"
	is "$ERR" "ovup: $1: not an object from 'ovup build'; build one with 'ovup build -p PID -o PATCH.o PATCH.c' (or -k for the kernel)" \
		"... one line saying what to do"
	is "$OUT" "" "... nothing on stdout"
}
refused "$WORK/fix.c" "a .c file"
head -c 4096 /dev/urandom >"$WORK/random.o"
refused "$WORK/random.o" "a random file"
cc -c -o "$WORK/plain.o" "$WORK/fix.c" -I"$ROOT/include"
refused "$WORK/plain.o" "a plain cc -c object"
run_ovup info "$WORK/missing.o"
is "$RC:$ERR" "1:ovup: $WORK/missing.o: No such file or directory" "a missing file: exit 1, named"
run_ovup info --json "$WORK/plain.o"
like "$RC $OUT" '^1 \{"error":".*not an object from .ovup build.*","exit":1\}$' "--json: the refusal as JSON"
run_ovup info
is "$RC" 2 "no file: usage, exit 2"
run_ovup info -p "$P" "$WORK/fix.o"
is "$RC" 2 "info takes no target: usage, exit 2"
done_testing
