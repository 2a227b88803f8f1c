"""AWS sink backends (S3-compatible stores off AWS, such as IBM COS, are the core's ``cos://`` and
``s3compat://``).

Found by URL scheme through the ``corefn.sinks`` entry points; importing this package imports no
AWS SDK: boto3 is imported when a sink is first used, and each backend creates its client once.

======================================  ===========  ==============================================
URL                                     family       module
======================================  ===========  ==============================================
``s3://bucket[/prefix]``                object       :mod:`corefn_aws.sinks.s3`
``dynamodb://table``                    table        :mod:`corefn_aws.sinks.dynamodb`
``sqs://queue[?account=ID]``            publisher    :mod:`corefn_aws.sinks.sqs`
``sns://topic`` / ``sns://arn:...``     publisher    :mod:`corefn_aws.sinks.sns`
``kinesis://stream``                    publisher    :mod:`corefn_aws.sinks.kinesis`
======================================  ===========  ==============================================

Region and credentials come from the standard AWS chain (``AWS_REGION`` /
``AWS_DEFAULT_REGION``, the Lambda role); ``?region=`` in any URL overrides the region.
``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3`` ...) points every client at an emulator
(moto, LocalStack), as boto3 does natively.
"""
