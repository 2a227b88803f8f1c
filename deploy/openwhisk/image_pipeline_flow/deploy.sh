#!/usr/bin/env bash
# Deploys corefn app 'image-pipeline-flow' to Apache OpenWhisk (wsk and wskdeploy configured for your host
# and namespace; mc for the object store). Every variable the manifest binds must be set: wskdeploy
# would bind an unset one as "", and the action would then fail at its first activation.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
missing=()
for name in CLOUDANT_APIKEY CLOUDANT_AUTH_TYPE CLOUDANT_URL COREFN_S3_ENDPOINT COREFN_SINK_ORIGINALS COREFN_SINK_PROCESSED COREFN_SINK_REJECTED COREFN_SINK_THUMBNAILS COREFN_SINK_UPLOADS COREFN_SINK_WATERMARKED COREFN_WEBHOOK_TOKEN KAFKA_BROKERS KAFKA_PASSWORD KAFKA_USER S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY MINIO_ALIAS MINIO_QUEUE_DIR; do
  if [ -z "${!name:-}" ]; then missing+=("$name"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deploy.sh: set these variables first (README.md says what each holds): ${missing[*]}" >&2
  exit 1
fi
"$HERE/build.sh"
wskdeploy -m "$HERE/manifest.yaml"
# bucket 'originals' → action process-upload (the MinIO webhook bridge)
url="$(wsk action get "image-pipeline-flow/process-upload" --url | tail -n 1)"
mc admin config set "$MINIO_ALIAS" "notify_webhook:corefn_process-upload" endpoint="$url" auth_token="$COREFN_WEBHOOK_TOKEN" queue_dir="$MINIO_QUEUE_DIR"
mc admin service restart "$MINIO_ALIAS"  # the store loads new notification targets on restart
mc event add "$MINIO_ALIAS/originals" "arn:minio:sqs::corefn_process-upload:webhook" --event put
