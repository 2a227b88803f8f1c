#!/usr/bin/env bash
# iot-site on IBM Cloud Code Engine: one application per handler, one subscription per event handler.
# Needs: ibmcloud login, a selected project (ibmcloud ce project select --name ...), IMAGE pushed to a
# registry Code Engine can pull from, the iot-site-secrets secret (README.md),
# BUCKET_<NAME> for each watched bucket, KAFKA_BROKERS (comma-separated) and KAFKA_SECRET (keys username, password) for Kafka.
set -euo pipefail
: "${IMAGE:?set IMAGE to the pushed image}"

# one --broker per Kafka broker (the option takes one server and is repeated)
: "${KAFKA_BROKERS:?set KAFKA_BROKERS to the comma-separated brokers}"
KAFKA_BROKER_FLAGS=()
IFS=, read -ra _brokers <<< "$KAFKA_BROKERS"
for b in "${_brokers[@]}"; do KAFKA_BROKER_FLAGS+=(--broker "$b"); done

# register_device (http)
ibmcloud ce application create --name iot-site-register-device --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=register_device \
    --env-from-secret iot-site-secrets \
    --visibility public

# get_device (http)
ibmcloud ce application create --name iot-site-get-device --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=get_device \
    --env-from-secret iot-site-secrets \
    --visibility public

# post_reading (http)
ibmcloud ce application create --name iot-site-post-reading --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=post_reading \
    --env-from-secret iot-site-secrets \
    --visibility public

# post_telemetry (http)
ibmcloud ce application create --name iot-site-post-telemetry --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=post_telemetry \
    --env-from-secret iot-site-secrets \
    --visibility public

# upload_photo (http)
ibmcloud ce application create --name iot-site-upload-photo --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=upload_photo \
    --env-from-secret iot-site-secrets \
    --visibility public

# store_reading (queue)
ibmcloud ce application create --name iot-site-store-reading --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=store_reading \
    --env-from-secret iot-site-secrets \
    --visibility project
ibmcloud ce subscription kafka create --name iot-site-store-reading-kafka --destination iot-site-store-reading \
    "${KAFKA_BROKER_FLAGS[@]}" --topic readings --secret "$KAFKA_SECRET"

# aggregate_telemetry (stream)
ibmcloud ce application create --name iot-site-aggregate-telemetry --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=aggregate_telemetry \
    --env-from-secret iot-site-secrets \
    --visibility project
ibmcloud ce subscription kafka create --name iot-site-aggregate-telemetry-kafka --destination iot-site-aggregate-telemetry \
    "${KAFKA_BROKER_FLAGS[@]}" --topic telemetry --secret "$KAFKA_SECRET"

# summarize (timer)
ibmcloud ce application create --name iot-site-summarize --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=summarize \
    --env-from-secret iot-site-secrets \
    --visibility project
ibmcloud ce subscription cron create --name iot-site-summarize-cron --destination iot-site-summarize \
    --schedule '*/5 * * * *' --time-zone Asia/Seoul \
    --content-type application/json --data '{"corefn":"timer","name":"summarize"}'

# process_photo (storage)
ibmcloud ce application create --name iot-site-process-photo --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=process_photo \
    --env-from-secret iot-site-secrets \
    --cpu 1 --memory 2G \
    --request-timeout 60 \
    --visibility project
ibmcloud ce subscription cos create --name iot-site-process-photo-cos --destination iot-site-process-photo \
    --bucket "${BUCKET_PHOTOS}" --event-type write --prefix devices/
