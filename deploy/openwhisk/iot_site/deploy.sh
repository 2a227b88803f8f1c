#!/usr/bin/env bash
# Deploys corefn app 'iot-site' to Apache OpenWhisk (wsk and wskdeploy configured for your host
# and namespace; mc for the object store). Every variable the manifest binds must be set: wskdeploy
# would bind an unset one as "", and the action would then fail at its first activation.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
missing=()
for name in CLOUDANT_APIKEY CLOUDANT_AUTH_TYPE CLOUDANT_URL COREFN_API_KEY COREFN_S3_ENDPOINT COREFN_SINK_DEVICES COREFN_SINK_DEVICE_STATS COREFN_SINK_PHOTOS COREFN_SINK_PHOTO_THUMBNAILS COREFN_SINK_PHOTO_WATERMARKED COREFN_SINK_READINGS COREFN_SINK_REPORTS COREFN_SINK_TELEMETRY COREFN_WEBHOOK_TOKEN KAFKA_ADMIN_URL KAFKA_BROKERS KAFKA_BROKERS_SASL KAFKA_PASSWORD KAFKA_USER S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY MINIO_ALIAS MINIO_QUEUE_DIR; do
  if [ -z "${!name:-}" ]; then missing+=("$name"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deploy.sh: set these variables first (README.md says what each holds): ${missing[*]}" >&2
  exit 1
fi
"$HERE/build.sh"
wskdeploy -m "$HERE/manifest.yaml"
# bucket 'photos' → action process_photo (the MinIO webhook bridge)
url="$(wsk action get "iot-site/process_photo" --url | tail -n 1)"
mc admin config set "$MINIO_ALIAS" "notify_webhook:corefn_process_photo" endpoint="$url" auth_token="$COREFN_WEBHOOK_TOKEN" queue_dir="$MINIO_QUEUE_DIR"
mc admin service restart "$MINIO_ALIAS"  # the store loads new notification targets on restart
mc event add "$MINIO_ALIAS/photos" "arn:minio:sqs::corefn_process_photo:webhook" --event put --prefix 'devices/'
