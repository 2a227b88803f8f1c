"""The app's flows in the SAM template: what :mod:`corefn_aws.generator` merges once its
functions are written (one call, :func:`add_flows`).

- one ``AWS::Serverless::StateMachine`` per flow (:func:`corefn_aws.flows.state_machine`), named
  like the functions (``${ResourcePrefix}-${Stage}-<flow>``, so dev and prod stacks coexist), whose
  role may invoke only the flow's step functions;
- every step is an invoke handler, already deployed as its own function (no event source: only
  the state machine calls it); a step on any other kind of handler is refused here;
- the function of a trigger applied to a flow (``app.storage("originals")(flow)``) gets the state
  machine's ARN in ``COREFN_FLOW_<NAME>`` (read by :mod:`corefn_aws._flow_start`) and
  ``states:StartExecution`` on that state machine only
  (the action's resource type is ``stateMachine``:
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html).
  No other function may start a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError
from corefn_aws._flow_start import flow_env
from corefn_aws._sam_resources import Plan, pascal, sub

if TYPE_CHECKING:
    from corefn.flows.spec import FlowSpec


def function_id(handler: str) -> str:
    """The generator's logical id of a handler's function."""
    return pascal(handler) + "Function"


def _check_steps(plan: Plan, flow: FlowSpec) -> None:
    for task in flow.tasks():
        spec = plan.app.handler(task.handler)
        if spec.kind != "invoke":
            raise ConfigurationError(
                f"flow {flow.name!r}: step {task.name!r} runs handler {task.handler!r}, a {spec.kind} handler; "
                "a Step Functions Lambda task invokes its function directly, so steps run @app.invoke handlers"
            )


def add_flows(plan: Plan, resources: dict[str, Any]) -> None:
    """Add the state machines to ``resources`` (the template's, its functions already in it) and
    let each flow's starter functions start runs (see the module docstring)."""
    from corefn.flows.deploying import starters
    from corefn_aws.flows import resource_id, state_machine

    machines: dict[str, str] = {}
    for flow in plan.app.flows:
        _check_steps(plan, flow)
        ((logical, machine),) = state_machine(flow, plan.app, function_id).items()
        machine["Properties"]["Name"] = sub(plan.function_name(flow.name))
        if logical in resources:  # "a-b" and "a_b" are both ABStateMachine: never overwrite one
            raise ConfigurationError(f"flow {flow.name!r}: its state machine's logical id {logical!r} is taken; rename the flow")
        resources[logical] = machine
        machines[flow.name] = resource_id(flow)
    for handler, flow_name in starters(plan.app).items():
        function = resources[function_id(handler)]
        function["Properties"]["Environment"]["Variables"][flow_env(flow_name)] = {"Ref": machines[flow_name]}
        statements = resources[function_id(handler) + "Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        statements.append({"Effect": "Allow", "Action": ["states:StartExecution"], "Resource": {"Ref": machines[flow_name]}})


def flow_readme(plan: Plan) -> list[str]:
    """The deployment README's section on the flows (nothing for an app without)."""
    if not plan.app.flows:
        return []
    from corefn.flows.deploying import starters
    from corefn_aws.flows import resource_id

    started = starters(plan.app)
    lines = ["", "## Flows (Step Functions)", ""]
    for flow in plan.app.flows:
        by = [h for h, f in started.items() if f == flow.name]
        steps = sorted({task.handler for task in flow.tasks()})
        lines.append(f"- `{flow.name}`: state machine `{resource_id(flow)}` (STANDARD, {flow.timeout:g} s timeout) calling "
                     f"{', '.join(f'`{s}`' for s in steps)}; started by {', '.join(f'`{h}`' for h in by) or 'nothing in this app'}.")  # fmt: skip
    lines += [
        "",
        "Only the role of a function whose trigger is applied to a flow may start it (`states:StartExecution` on that",
        "state machine, its ARN in `COREFN_FLOW_<NAME>`); the state machine's own role may invoke its steps' functions",
        "only. A redelivered trigger event starts nothing new: the execution is named after the event. Runs:",
        "",
        *[f"    aws stepfunctions list-executions --state-machine-arn $(aws cloudformation describe-stack-resource --stack-name "
          f"{plan.app.name}-dev --logical-resource-id {resource_id(flow)} --query StackResourceDetail.PhysicalResourceId --output text)"
          for flow in plan.app.flows],
    ]
    return lines


__all__ = ["add_flows", "flow_readme", "function_id"]
