#!/usr/bin/env bash
# image-pipeline on IBM Cloud Code Engine: one application per handler, one subscription per event handler.
# Needs: ibmcloud login, a selected project (ibmcloud ce project select --name ...), IMAGE pushed to a
# registry Code Engine can pull from, the image-pipeline-secrets secret (README.md),
# BUCKET_<NAME> for each watched bucket, KAFKA_BROKERS (comma-separated) and KAFKA_SECRET (keys username, password) for Kafka.
set -euo pipefail
: "${IMAGE:?set IMAGE to the pushed image}"

# make_renditions (storage)
ibmcloud ce application create --name image-pipeline-make-renditions --image "$IMAGE" \
    --env COREFN_APP=app:app --env COREFN_HANDLER=make_renditions \
    --env-from-secret image-pipeline-secrets \
    --cpu 1 --memory 2G \
    --request-timeout 60 \
    --visibility project
ibmcloud ce subscription cos create --name image-pipeline-make-renditions-cos --destination image-pipeline-make-renditions \
    --bucket "${BUCKET_ORIGINALS}" --event-type write
