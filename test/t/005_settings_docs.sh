# README.md's "Per-table settings" table documents every setting the library
# knows (etl_pull.table_settings(), from src/settinglist.h) with its default
# and, for a choice, its values; and documents no setting the library does
# not know.  (sql/settings.sql checks the same descriptors against the
# columns of etl_pull.tables.)
source "$(dirname "$0")/../tap.sh"
tap_setup_db etl_tap_settings_docs

README=$ETL_PULL_REPO/README.md

# a README cell as plain text: no backticks, no surrounding blanks
plain() {
	local s=${1//\`/}
	s=${s#"${s%%[! ]*}"}
	s=${s%"${s##*[! ]}"}
	printf '%s' "$s"
}

# the table's rows: | `setting` | default | allowed | meaning |
declare -A doc_default doc_allowed
while IFS='|' read -r _ name default allowed _; do
	name=$(plain "$name")
	doc_default[$name]=$(plain "$default")
	doc_allowed[$name]=$(plain "$allowed")
done < <(awk '/^## Per-table settings/ { on = 1; next } /^## / { on = 0 }
	on && /^\| `/' "$README")
ok $([ ${#doc_default[@]} -gt 0 ] && echo 0 || echo 1) "README.md has a settings table"

declare -A known
settings=$(q "SELECT name, kind, allowed, coalesce(default_value, '') FROM etl_pull.table_settings()")
ok $([ -n "$settings" ] && echo 0 || echo 1) "etl_pull.table_settings() lists settings"
while IFS='|' read -r name kind allowed default; do
	known[$name]=1
	if [ -z "${doc_default[$name]+set}" ]; then
		ok 1 "README.md documents setting $name"
		continue
	fi
	ok 0 "README.md documents setting $name"
	if [ -n "$default" ]; then
		is "${doc_default[$name]}" "$default" "README.md gives the default of $name"
	fi
	if [ "$kind" = choice ]; then
		is "${doc_allowed[$name]}" "$allowed" "README.md gives the values of $name"
	fi
done <<<"$settings"

for name in $(printf '%s\n' "${!doc_default[@]}" | sort); do
	ok $([ -n "${known[$name]+set}" ] && echo 0 || echo 1) "README.md's setting $name exists"
done

done_testing
