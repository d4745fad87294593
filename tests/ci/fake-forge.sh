#!/usr/bin/env bash
# Stands in for `gh` (GitHub) and `curl` (GitLab REST) in tests/ci_workflow.rs: keeps pull-request
# comments / merge-request notes as files under $FAKE_FORGE/threads/<number>/<id>.md and logs
# every call to $FAKE_FORGE/calls. Artifacts are kept by tests/ci_workflow.rs as the runner
# would: GitHub's under $FAKE_FORGE/artifacts/<id>/ (its `name` and `files/`), GitLab's under
# $FAKE_FORGE/gitlab-artifacts/<ref, URL-encoded>/<job>/ (merge requests) and, for branch
# pipelines, as numbered jobs under $FAKE_FORGE/gitlab-jobs/<id>/ (`name`, `ref`, `files/`). Only the calls the example workflows make are understood;
# anything else fails loudly so a workflow change cannot slip past the test.
set -euo pipefail
: "${FAKE_FORGE:?}"
echo "$(basename "$0") $*" >> "$FAKE_FORGE/calls"

list() { # thread number -> JSON array of {id, body}
  local dir="$FAKE_FORGE/threads/$1" json='[]' f
  mkdir -p "$dir"
  for f in $(ls "$dir" | sort -n); do
    json=$(jq --argjson id "${f%.md}" --rawfile body "$dir/$f" '. + [{id: $id, body: $body}]' <<<"$json")
  done
  echo "$json"
}
create() { # thread number, body file
  local n
  n=$(( $(cat "$FAKE_FORGE/next_id" 2>/dev/null || echo 100) + 1 ))
  echo "$n" > "$FAKE_FORGE/next_id"
  mkdir -p "$FAKE_FORGE/threads/$1"
  cp "$2" "$FAKE_FORGE/threads/$1/$n.md"
  jq -n --argjson id "$n" '{id: $id}'
}
update() { # comment id, body file
  local found
  found=$(ls "$FAKE_FORGE"/threads/*/"$1.md" 2>/dev/null | head -n 1)
  [ -n "$found" ] || { echo "fake-forge: no comment $1" >&2; exit 22; }
  cp "$2" "$found"
  jq -n --argjson id "$1" '{id: $id}'
}

# Issues (the scheduled drift job) live under $FAKE_FORGE/issues/<number>/ as body.md, title and
# state (open or closed); their comments are threads like pull-request comments.
issue_list() { # gh | gitlab -> JSON array of the issues
  local json='[]' n dir
  mkdir -p "$FAKE_FORGE/issues"
  for n in $(ls "$FAKE_FORGE/issues" | sort -n); do
    dir="$FAKE_FORGE/issues/$n"
    json=$(jq --argjson n "$n" --rawfile body "$dir/body.md" --rawfile title "$dir/title" \
             --rawfile state "$dir/state" --arg forge "$1" \
      '. + [if $forge == "gh"
            then {number: $n, title: $title, body: $body, state: $state, labels: [{name: "simfleet-drift"}]}
            else {iid: $n, title: $title, description: $body,
                  state: (if $state == "open" then "opened" else "closed" end), labels: ["simfleet-drift"]} end]' <<<"$json")
  done
  echo "$json"
}
issue_create() { # title, body file -> number
  local n
  n=$(( $(cat "$FAKE_FORGE/next_issue" 2>/dev/null || echo 50) + 1 ))
  echo "$n" > "$FAKE_FORGE/next_issue"
  mkdir -p "$FAKE_FORGE/issues/$n"
  printf '%s' "$1" > "$FAKE_FORGE/issues/$n/title"
  printf 'open' > "$FAKE_FORGE/issues/$n/state"
  cp "$2" "$FAKE_FORGE/issues/$n/body.md"
  echo "$n"
}
issue_update() { # number, body file or "", state (open/closed) or ""
  local dir="$FAKE_FORGE/issues/$1"
  [ -d "$dir" ] || { echo "fake-forge: no issue $1" >&2; exit 22; }
  [ -z "$2" ] || cp "$2" "$dir/body.md"
  [ -z "$3" ] || printf '%s' "$3" > "$dir/state"
}

case "$(basename "$0")" in
gh)
  [ "${1:-}" = api ] || { echo "fake gh: only 'gh api' is faked: $*" >&2; exit 2; }
  shift
  method=GET path="" filter="" body="" title="" state=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --method|-X) method=$2; shift 2 ;;
      -f|--raw-field) case "$2" in title=*) title=${2#title=} ;; state=*) state=${2#state=} ;; "labels[]=simfleet-drift") ;;
                        *) echo "fake gh: raw field $2" >&2; exit 2 ;; esac; shift 2 ;;
      --paginate) shift ;;
      --jq|-q) filter=$2; shift 2 ;;
      -F|--field) case "$2" in body=@*) body=${2#body=@} ;; *) echo "fake gh: field $2" >&2; exit 2 ;; esac; shift 2 ;;
      -*) echo "fake gh: unknown flag $1" >&2; exit 2 ;;
      *) path=$1; shift ;;
    esac
  done
  case "$method $path" in
    "GET repos/"*/actions/artifacts/*/zip) # a zip of the artifact's files, streamed as is
      dir="$FAKE_FORGE/artifacts/$(basename "$(dirname "$path")")/files"
      [ -d "$dir" ] || { echo "fake gh: no artifact $path" >&2; exit 1; }
      (cd "$dir" && zip -q -r - .)
      exit 0 ;;
    "GET repos/"*/actions/artifacts\?name=*)
      want=${path#*\?name=} out='{"artifacts": []}'
      for d in $(ls "$FAKE_FORGE/artifacts" 2>/dev/null | sort -rn); do
        if [ "$(cat "$FAKE_FORGE/artifacts/$d/name")" = "$want" ]; then
          out=$(jq -n --argjson id "$d" --arg name "$want" '{artifacts: [{id: $id, name: $name}]}'); break
        fi
      done ;;
    "GET repos/"*/issues/*/comments) out=$(list "$(basename "$(dirname "$path")")") ;;
    "POST repos/"*/issues/*/comments) out=$(create "$(basename "$(dirname "$path")")" "$body") ;;
    "PATCH repos/"*/issues/comments/*) out=$(update "$(basename "$path")" "$body") ;;
    "GET repos/"*/commits/*/pulls)
      if [ -n "${FAKE_PR_FOR_COMMIT:-}" ]; then out="[{\"number\": $FAKE_PR_FOR_COMMIT}]"; else out='[]'; fi ;;
    "GET repos/"*/issues\?*) out=$(issue_list gh) ;;
    "POST repos/"*/issues) out="{\"number\": $(issue_create "$title" "$body")}" ;;
    "PATCH repos/"*/issues/[0-9]*) issue_update "$(basename "$path")" "$body" "$state"; out='{}' ;;
    *) echo "fake gh: unexpected call $method $path" >&2; exit 2 ;;
  esac
  if [ -n "$filter" ]; then jq -r "$filter" <<<"$out"; else echo "$out"; fi
  ;;
curl)
  method=GET url="" body="" title="" state_event="" output=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --request|-X) method=$2; shift 2 ;;
      --output|-o) output=$2; shift 2 ;;
      --location|-L) shift ;;
      --header|-H) case "$2" in "PRIVATE-TOKEN: "?*) ;; *) echo "fake curl: header $2" >&2; exit 2 ;; esac; shift 2 ;;
      --data-urlencode) case "$2" in body@*) body=${2#body@} ;; description@*) body=${2#description@} ;;
                          title=*) title=${2#title=} ;; state_event=*) state_event=${2#state_event=} ;; labels=simfleet-drift) ;;
                          *) echo "fake curl: data $2" >&2; exit 2 ;; esac
                        [ "$method" != GET ] || method=POST; shift 2 ;;
      --fail|--silent|--show-error|-f|-s|-S|-sS|-fsS) shift ;;
      -*) echo "fake curl: unknown flag $1" >&2; exit 2 ;;
      *) url=$1; shift ;;
    esac
  done
  path=${url%%\?*}
  case "$method $path" in
    "GET "*/merge_requests/*/notes) list "$(basename "$(dirname "$path")")" ;;
    "POST "*/merge_requests/*/notes) create "$(basename "$(dirname "$path")")" "$body" ;;
    "PUT "*/merge_requests/*/notes/*) update "$(basename "$path")" "$body" ;;
    "GET "*/jobs/artifacts/*/raw/*) # one file of the latest artifacts of a job on a ref
      rest=${path#*/jobs/artifacts/} ref=${rest%%/raw/*} file=${rest#*/raw/} job=${url#*job=}
      src="$FAKE_FORGE/gitlab-artifacts/$ref/$job/$file"
      [ -f "$src" ] || { echo "fake curl: no artifact $url" >&2; exit 22; }
      if [ -n "$output" ]; then cp "$src" "$output"; else cat "$src"; fi ;;
    "GET "*/jobs) # the project's jobs, newest first (kept by tests/ci_workflow.rs under gitlab-jobs/<id>/)
      out='[]'
      for d in $(ls "$FAKE_FORGE/gitlab-jobs" 2>/dev/null | sort -rn); do
        dir="$FAKE_FORGE/gitlab-jobs/$d" archive=false
        [ -z "$(ls "$dir/files" 2>/dev/null)" ] || archive=true
        out=$(jq --argjson id "$d" --rawfile name "$dir/name" --rawfile ref "$dir/ref" --argjson archive "$archive" \
          '. + [{id: $id, name: $name, ref: $ref, status: "success",
                 artifacts: (if $archive then [{file_type: "archive", filename: "artifacts.zip"}] else [] end)}]' <<<"$out")
      done
      echo "$out" ;;
    "GET "*/jobs/[0-9]*/artifacts/*) # one artifact file of a job
      rest=${path#*/jobs/} id=${rest%%/*} file=${rest#*/artifacts/}
      src="$FAKE_FORGE/gitlab-jobs/$id/files/$file"
      [ -f "$src" ] || { echo "fake curl: no artifact $url" >&2; exit 22; }
      if [ -n "$output" ]; then cp "$src" "$output"; else cat "$src"; fi ;;
    "GET "*/repository/commits/*/merge_requests)
      if [ -n "${FAKE_PR_FOR_COMMIT:-}" ]; then echo "[{\"iid\": $FAKE_PR_FOR_COMMIT}]"; else echo '[]'; fi ;;
    "GET "*/issues) issue_list gitlab ;;
    "POST "*/issues) echo "{\"iid\": $(issue_create "$title" "$body")}" ;;
    "PUT "*/issues/[0-9]*)
      case "$state_event" in close) state=closed ;; reopen) state=open ;; "") state="" ;; *) echo "fake curl: state_event $state_event" >&2; exit 22 ;; esac
      issue_update "$(basename "$path")" "$body" "$state"; echo '{}' ;;
    "POST "*/issues/*/notes) create "$(basename "$(dirname "$path")")" "$body" ;;
    *) echo "fake curl: unexpected call $method $url" >&2; exit 22 ;;
  esac
  ;;
*) echo "fake-forge: called as $(basename "$0")" >&2; exit 2 ;;
esac
