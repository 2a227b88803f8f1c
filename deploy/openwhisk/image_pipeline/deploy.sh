#!/usr/bin/env bash
# Deploys corefn app 'image-pipeline' to Apache OpenWhisk (wsk and wskdeploy configured for your host
# and namespace; mc for the object store). Every variable the manifest binds must be set: wskdeploy
# would bind an unset one as "", and the action would then fail at its first activation.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
missing=()
for name in COREFN_S3_ENDPOINT COREFN_SINK_ASSETS COREFN_SINK_ORIGINALS COREFN_SINK_REJECTED COREFN_SINK_THUMBNAILS COREFN_SINK_WATERMARKED COREFN_WEBHOOK_TOKEN S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY MINIO_ALIAS MINIO_QUEUE_DIR; do
  if [ -z "${!name:-}" ]; then missing+=("$name"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deploy.sh: set these variables first (README.md says what each holds): ${missing[*]}" >&2
  exit 1
fi
"$HERE/build.sh"
wskdeploy -m "$HERE/manifest.yaml"
# bucket 'originals' → action make_renditions (the MinIO webhook bridge)
url="$(wsk action get "image-pipeline/make_renditions" --url | tail -n 1)"
mc admin config set "$MINIO_ALIAS" "notify_webhook:corefn_make_renditions" endpoint="$url" auth_token="$COREFN_WEBHOOK_TOKEN" queue_dir="$MINIO_QUEUE_DIR"
mc admin service restart "$MINIO_ALIAS"  # the store loads new notification targets on restart
mc event add "$MINIO_ALIAS/originals" "arn:minio:sqs::corefn_make_renditions:webhook" --event put
