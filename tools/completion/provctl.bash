# bash completion for provctl(1).
#
# Nouns, verbs and options come from `provctl --commands` (the command table
# compiled into provctl, so this file never goes stale); unit codes and
# logins come from the running provd through `provctl complete units|logins
# PREFIX`.  Install as $(PREFIX)/share/bash-completion/completions/provctl,
# or source it from ~/.bashrc.

# Load the lines of `provctl --commands` into _provctl_table_text, once per
# provctl binary (call it directly, not in $(...), so the cache sticks).
_provctl_load_table() {
	local bin=$1
	if [[ ${_provctl_table_bin-} != "$bin" || -z ${_provctl_table_text-} ]]; then
		_provctl_table_text=$("$bin" --commands 2>/dev/null) || _provctl_table_text=
		_provctl_table_bin=$bin
	fi
}

# Values from provd: _provctl_ask BIN SOCKET WHAT PREFIX.  Quiet and empty
# when provd is not reachable.
_provctl_ask() {
	local bin=$1 sock=$2 what=$3 prefix=$4
	local -a cmd=("$bin")
	[[ -n $sock ]] && cmd+=(-s "$sock")
	cmd+=(-f tab complete "$what" -- "$prefix")
	"${cmd[@]}" 2>/dev/null </dev/null | tail -n +2
}

# Set COMPREPLY to the words of $1 that start with $2.
_provctl_words() {
	local IFS=$' \t\n'
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

_provctl_lines() {
	local IFS=$'\n'
	mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
}

# Complete a value described by a metavar (CODE, LOGIN, FILE, ...).
_provctl_value() {
	local bin=$1 sock=$2 noun=$3 meta=$4 cur=$5
	case $meta in
	*LOGIN*)  _provctl_lines "$(_provctl_ask "$bin" "$sock" logins "$cur")" "$cur" ;;
	CODE)     _provctl_lines "$(_provctl_ask "$bin" "$sock" units "$cur")" "$cur" ;;
	FILE*)    compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	WHAT)     _provctl_words "units logins" "$cur" ;;
	KIND)     _provctl_words "province department district ward commune" "$cur" ;;
	TYPE)     _provctl_words "ec-p256 ec-p384 rsa-3072 rsa-4096" "$cur" ;;
	MODE)     _provctl_words "stop continue" "$cur" ;;
	REASON)   _provctl_words "unspecified keyCompromise affiliationChanged superseded
	                          cessationOfOperation certificateHold privilegeWithdrawn" "$cur" ;;
	STATUS)
		case $noun in
		cert) _provctl_words "valid hold revoked expired" "$cur" ;;
		*)    _provctl_words "active disabled deleted" "$cur" ;;
		esac ;;
	*)        COMPREPLY=() ;;
	esac
}

_provctl() {
	local cur=${COMP_WORDS[COMP_CWORD]-} prev='' bin sock='' table
	local i=1 noun='' verb='' line
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()

	bin=${COMP_WORDS[0]-provctl}
	bin=${bin/#\~/$HOME}
	type -P "$bin" >/dev/null 2>&1 || [[ -x $bin ]] || bin=provctl

	# Global options come before the noun.
	while ((i < COMP_CWORD)); do
		case ${COMP_WORDS[i]} in
		-s) sock=${COMP_WORDS[i + 1]-}; i=$((i + 2)) ;;
		-f) i=$((i + 2)) ;;
		-s?*) sock=${COMP_WORDS[i]#-s}; i=$((i + 1)) ;;
		-*) i=$((i + 1)) ;;
		*) break ;;
		esac
	done
	sock=${sock/#\~/$HOME}
	if ((i >= COMP_CWORD)); then
		case $prev in
		-s) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
		-f) _provctl_words "table tab json" "$cur"; return 0 ;;
		esac
		if [[ $cur == -* ]]; then
			_provctl_words "-s -f -h -V --help --version" "$cur"
			return 0
		fi
	fi

	_provctl_load_table "$bin"
	table=$_provctl_table_text
	[[ -n $table ]] || return 0
	local nouns
	nouns=$(printf '%s\n' "$table" | while read -r n _; do printf '%s\n' "$n"; done | sort -u)
	if ((i == COMP_CWORD)); then
		_provctl_words "$nouns help" "$cur"
		return 0
	fi
	noun=${COMP_WORDS[i]}
	if [[ $noun == help ]]; then
		((COMP_CWORD == i + 1)) && _provctl_words "$nouns" "$cur"
		return 0
	fi

	# Verbs of the noun: second words that are not options.
	local verbs='' n v rest
	while read -r n v rest; do
		[[ $n == "$noun" && -n $v && $v != -* ]] && verbs+="$v "
	done <<<"$table"
	if [[ -n $verbs ]]; then
		if ((COMP_CWORD == i + 1)); then
			_provctl_words "$verbs" "$cur"
			return 0
		fi
		verb=${COMP_WORDS[i + 1]}
		i=$((i + 2))
	else
		i=$((i + 1))
	fi

	# -s and -f may also follow the command.
	case $prev in
	-s) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
	-f) _provctl_words "table tab json" "$cur"; return 0 ;;
	esac
	local j
	for ((j = i; j < COMP_CWORD; j++)); do
		[[ ${COMP_WORDS[j]} == -- ]] && break
		[[ ${COMP_WORDS[j]} == -s ]] && sock=${COMP_WORDS[j + 1]-}
	done
	sock=${sock/#\~/$HOME}

	# The table line of this command.
	line=''
	while read -r n v rest; do
		if [[ -n $verb && $n == "$noun" && $v == "$verb" ]]; then
			line=$rest; break
		elif [[ -z $verb && $n == "$noun" && ( -z $v || $v == -* ) ]]; then
			line="$v $rest"; break
		fi
	done <<<"$table"
	[[ -n $line || -z $verb ]] || return 0

	# Split it into options (name -> metavar, empty for flags) and operands.
	local -A meta=()
	local -a operands=()
	local w in_operands=0 optwords=''
	for w in $line; do
		if ((in_operands)); then
			operands+=("$w")
		elif [[ $w == -- ]]; then
			in_operands=1
		elif [[ $w == --*=* ]]; then
			meta[${w%%=*}]=${w#*=}
			optwords+="${w%%=*} "
		elif [[ $w == --* ]]; then
			meta[$w]=
			optwords+="$w "
		fi
	done

	# The value of an option: "--unit CODE", or "--unit=CODE" (which
	# COMP_WORDBREAKS splits into "--unit" "=" "CODE").
	local opt=''
	if [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
		opt=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur != -* || $cur == - ]]; then
		opt=$prev
	fi
	if [[ $opt == --* && -n ${meta[$opt]+set} && -n ${meta[$opt]} ]]; then
		_provctl_value "$bin" "$sock" "$noun" "${meta[$opt]}" "$cur"
		return 0
	fi
	if [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		if [[ -n ${meta[$opt]-} ]]; then
			local val=${cur#*=} c
			_provctl_value "$bin" "$sock" "$noun" "${meta[$opt]}" "$val"
			# This word was not split at "=": keep the option in front.
			for c in "${!COMPREPLY[@]}"; do
				COMPREPLY[c]="$opt=${COMPREPLY[c]}"
			done
			return 0
		fi
	fi
	if [[ $cur == -* && $cur != - ]]; then
		_provctl_words "$optwords" "$cur"
		return 0
	fi

	# An operand: which one is it?  Count the operands before the cursor.
	local k=0 dashdash=0
	j=$i
	while ((j < COMP_CWORD)); do
		w=${COMP_WORDS[j]}
		if ((dashdash)); then
			k=$((k + 1))
		elif [[ $w == -- ]]; then
			dashdash=1
		elif [[ $w == -s || $w == -f ]]; then
			j=$((j + 1))
		elif [[ $w == --*=* || $w == = ]]; then
			:
		elif [[ $w == --* ]]; then
			[[ -n ${meta[$w]-} ]] && ((j + 1 < COMP_CWORD)) &&
				[[ ${COMP_WORDS[j + 1]} != = ]] && j=$((j + 1))
		elif [[ $j -gt $i && ${COMP_WORDS[j - 1]} == = ]]; then
			:
		else
			k=$((k + 1))
		fi
		j=$((j + 1))
	done
	if ((k < ${#operands[@]})); then
		w=${operands[k]#[}
		w=${w%]}
		_provctl_value "$bin" "$sock" "$noun" "$w" "$cur"
	fi
	return 0
}

complete -F _provctl provctl
