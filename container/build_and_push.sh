#!/usr/bin/env bash
# Build the training image and push it to Amazon ECR: the bring-your-own-container recipe.
#
# Usage: container/build_and_push.sh [options] [REPOSITORY]
#   REPOSITORY          ECR repository name (default: sagemaker-dgl); created when missing
#   -v, --variant V     gpu (default; `make image`) or cpu (`make image-cpu`)
#   -t, --tag TAG       tag to push; repeatable (default: latest)
#   --no-build          push the image already built as sagemaker-dgl:<variant>
#   -h, --help          show this help
#
# Environment:
#   AWS_REGION, AWS_DEFAULT_REGION   region (else the AWS CLI's configured region)
#   AWS_ACCOUNT_ID                   account (else `aws sts get-caller-identity`)
#   AWS_PROFILE and the other AWS CLI settings apply as usual
#   BASE_IMAGE, DOCKER_BUILD_ARGS    passed to make (see the Makefile)
#   DOCKER, AWS_CLI, MAKE            commands to use (default: docker, aws, make)
#
# Prints the pushed image URIs, the last one alone on the last line, e.g.
#   123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-dgl:latest
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
docker_cmd="${DOCKER:-docker}"
aws_cmd="${AWS_CLI:-aws}"
make_cmd="${MAKE:-make}"
variant=gpu
tags=()
build=1

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "build_and_push.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    -v|--variant) [ $# -ge 2 ] || die "$1 needs gpu or cpu"; variant="$2"; shift 2 ;;
    -t|--tag) [ $# -ge 2 ] || die "$1 needs a tag"; tags+=("$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[ $# -le 1 ] || die "one repository name at most (see --help)"
repository="${1:-sagemaker-dgl}"
[ ${#tags[@]} -gt 0 ] || tags=(latest)
case "$variant" in
  gpu) target=image ;;
  cpu) target=image-cpu ;;
  *) die "variant must be gpu or cpu, not '$variant'" ;;
esac
local_image="sagemaker-dgl:$variant"

# AWS first: a missing CLI or credentials should fail before a long build.
command -v "$aws_cmd" >/dev/null 2>&1 \
  || die "the AWS CLI ('$aws_cmd') is not installed or not on PATH; install it (https://aws.amazon.com/cli/) and run 'aws configure'"
command -v "$docker_cmd" >/dev/null 2>&1 || die "'$docker_cmd' not found: a Docker CLI and engine are needed to build and push"

region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
if [ -z "$region" ]; then
  region="$("$aws_cmd" configure get region 2>/dev/null || true)"
fi
[ -n "$region" ] || die "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or run 'aws configure set region REGION'"

account="${AWS_ACCOUNT_ID:-}"
if [ -z "$account" ]; then
  if ! account="$("$aws_cmd" sts get-caller-identity --query Account --output text 2>&1)"; then
    die "no usable AWS credentials ('aws sts get-caller-identity' failed: ${account//$'\n'/ }); run 'aws configure', set AWS_PROFILE, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
  fi
fi
[[ "$account" =~ ^[0-9]{12}$ ]] || die "'$account' is not a 12-digit AWS account id"

case "$region" in
  cn-*) domain=amazonaws.com.cn ;;
  *) domain=amazonaws.com ;;
esac
registry="$account.dkr.ecr.$region.$domain"

if [ "$build" -eq 1 ]; then
  echo "build_and_push.sh: building $local_image (make $target)" >&2
  "$make_cmd" -C "$root" "$target" IMAGE_NAME=sagemaker-dgl DOCKER="$docker_cmd"
fi

if ! "$aws_cmd" ecr describe-repositories --region "$region" --repository-names "$repository" >/dev/null 2>&1; then
  echo "build_and_push.sh: creating ECR repository $repository in $region" >&2
  "$aws_cmd" ecr create-repository --region "$region" --repository-name "$repository" \
    --image-scanning-configuration scanOnPush=true >/dev/null \
    || die "could not create ECR repository '$repository' (does this identity have ecr:CreateRepository?)"
fi

"$aws_cmd" ecr get-login-password --region "$region" \
  | "$docker_cmd" login --username AWS --password-stdin "$registry" >/dev/null \
  || die "docker login to $registry failed (does this identity have ecr:GetAuthorizationToken?)"

for tag in "${tags[@]}"; do
  uri="$registry/$repository:$tag"
  "$docker_cmd" tag "$local_image" "$uri"
  "$docker_cmd" push "$uri" >&2
  echo "$uri"
done
