# bash workload of the programs suite: arrays, associative arrays, string
# operations, command substitution, subshells, pipes, functions, recursion.
# Usage: bash script.bash INPUT   (deterministic output)
set -u
in=$1

# Indexed arrays grown one element at a time, sliced, sorted through sort.
declare -a arr=()
for ((i = 0; i < 20000; i++)); do
	arr+=("e$(( (i * 7919) % 10007 ))")
done
echo "arr ${#arr[@]} first=${arr[0]} last=${arr[-1]} slice=${arr[*]:100:3}"
sorted=($(printf '%s\n' "${arr[@]:0:5000}" | sort -u))
echo "sorted ${#sorted[@]} ${sorted[0]} ${sorted[-1]}"
unset 'arr[5]' 'arr[17]'
echo "after unset ${#arr[@]}"

# Associative arrays: counting keys of the input's first 20000 lines.
declare -A count=() total=()
n=0
while IFS=$'\t' read -r id key num flt text; do
	count[$key]=$(( ${count[$key]:-0} + 1 ))
	total[$key]=$(( ${total[$key]:-0} + num ))
	n=$((n + 1))
	[ "$n" -ge 20000 ] && break
done <"$in"
echo "keys ${#count[@]} lines $n"
for k in "${!count[@]}"; do
	printf '%s %d %d\n' "$k" "${count[$k]}" "${total[$k]}"
done | sort | sed -n 1,20p
unset 'count[kaka]'

# String operations on a growing string.
s=""
for ((i = 0; i < 3000; i++)); do
	s+="w${i}-"
done
echo "len ${#s}"
t=${s//-/:}
t=${t^^}
echo "subst ${t:0:40} ${#t}"
u=${s#*w100-}
echo "strip ${#u} ${u:0:20}"
v=${s%%w2999*}
echo "suffix ${#v}"
IFS=- read -r -a parts <<<"$s"
echo "parts ${#parts[@]} ${parts[1500]}"
printf -v joined '%s,' "${parts[@]:0:50}"
echo "joined ${joined:0:60}"
lower=abcdefghijklmnopqrstuvwxyz
rev=""
for ((i = ${#lower} - 1; i >= 0; i--)); do rev+=${lower:i:1}; done
echo "rev $rev"

# Command substitution, subshells, pipes.
c=$(grep -c 'ka' "$in")
echo "grep count $c"
w=$(head -n 1000 "$in" | cut -f2 | sort | uniq | wc -l)
echo "distinct $w"
( x=inner; for i in 1 2 3; do echo "sub $x $i $(echo $((i * i)))"; done )
sum=0
while read -r a; do sum=$((sum + a)); done < <(seq 1 5000)
echo "sum $sum"
out=$( (echo a; (echo b; (echo c))) | tr '\n' ' ')
echo "nested $out"
mapfile -t lines < <(sed -n '1,3000p' "$in")
echo "mapfile ${#lines[@]} ${lines[2999]:0:10}"
for j in 1 2 3 4; do
	( echo "bg $j $(( j * 11 ))" ) &
done >"${TMPDIR:-/tmp}/ftm-bash-$$.bg"
wait
sort "${TMPDIR:-/tmp}/ftm-bash-$$.bg"
rm -f "${TMPDIR:-/tmp}/ftm-bash-$$.bg"

# Functions, recursion, local variables, eval.
fib() {
	local n=$1
	if [ "$n" -lt 2 ]; then echo "$n"; return; fi
	echo $(( $(fib $((n - 1))) + $(fib $((n - 2))) ))
}
echo "fib $(fib 9)"
ack() {
	local m=$1 n=$2
	if ((m == 0)); then REPLY=$((n + 1)); return; fi
	if ((n == 0)); then ack $((m - 1)) 1; return; fi
	ack "$m" $((n - 1))
	ack $((m - 1)) "$REPLY"
}
ack 2 40
echo "ack $REPLY"
for i in $(seq 1 200); do eval "var_$i=\$((i * 3))"; done
echo "eval $var_7 $var_200"
declare -A big=()
for ((i = 0; i < 15000; i++)); do big["k$i"]="value-$i-${i//0/zero}"; done
for ((i = 0; i < 15000; i += 2)); do unset "big[k$i]"; done
echo "big ${#big[@]} ${big[k9999]}"
case "$s" in *w2999-) echo "case ok" ;; *) echo "case bad" ;; esac
[[ "abc123def" =~ ([a-z]+)([0-9]+) ]] && echo "regex ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
echo done
