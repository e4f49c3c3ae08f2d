"""deploy/k8s: the production overlay rendered (``tests/support/kustomize.py``), every
core object valid against the Kubernetes schemas (``kubernetes-validate``, offline),
the custom resources with the fields their operators require, and what the issue
asks of each service: one Deployment per service of the topology from the one image,
probes, resources, disruption budgets, autoscalers, non-root on a read-only root,
credentials from Secrets, and only the gateway open to the outside."""

import importlib.util
import pathlib
import urllib.parse

import kubernetes_validate
import pytest

from services.common.probe import main as probe_main
from services.common.topology import BACKENDS, SERVICES
from tests.support import kustomize

ROOT = pathlib.Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"  # the oldest release still supported upstream
AUTOSCALED = {"gateway", "catalogue", "orders"}

# What the operators' CRDs require (RabbitMQ Cluster Operator rabbitmq.com/v1beta1
# RabbitmqCluster; MongoDB Community Operator mongodbcommunity.mongodb.com/v1
# MongoDBCommunity), copied as facts from their published schemas.
CUSTOM = {
    "RabbitmqCluster": "rabbitmq.com/v1beta1",
    "MongoDBCommunity": "mongodbcommunity.mongodb.com/v1",
}
MONGODB_SPEC_REQUIRED = {"security", "type", "users"}
MONGODB_USER_REQUIRED = {"name", "db", "passwordSecretRef", "roles", "scramCredentialsSecretName"}
"""The CRD requires ``name`` and ``roles`` of a user; a user that can log in with a
password also needs the rest."""
MONGODB_TYPES = {"ReplicaSet"}
RABBITMQ_SPEC_FIELDS = {
    "replicas", "image", "imagePullSecrets", "service", "persistence", "resources",
    "affinity", "tolerations", "rabbitmq", "tls", "override", "skipPostDeploySteps",
    "terminationGracePeriodSeconds", "delayStartSeconds", "secretBackend",
    "autoEnableAllFeatureFlags",
}  # fmt: skip


@pytest.fixture(scope="module")
def objects():
    return kustomize.build(K8S / "overlays" / "production")


def of_kind(objects, kind):
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def container(deployment):
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def test_the_services_manifest_is_what_the_generator_writes_from_the_topology():
    spec = importlib.util.spec_from_file_location("generate", K8S / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    written = (K8S / "base" / "services.yaml").read_text()
    assert written == generate.render(), "run `python deploy/k8s/generate.py`"


def test_every_core_object_is_valid_against_the_kubernetes_schemas(objects):
    core = [obj for obj in objects if obj["kind"] not in CUSTOM]
    assert len(core) > 20
    for obj in core:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_every_object_but_the_namespace_lives_in_it(objects):
    (namespace,) = of_kind(objects, "Namespace")
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == namespace, obj["metadata"]["name"]


def test_each_service_of_the_topology_runs_from_the_one_pinned_image(objects):
    deployments = of_kind(objects, "Deployment")
    assert set(deployments) == set(SERVICES)
    images = {container(d)["image"] for d in deployments.values()}
    assert images == {"registry.example.org/kompor-desa:1.0.0"}
    for name, deployment in deployments.items():
        assert container(deployment)["command"][-1] == SERVICES[name]
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_gateway_is_probed_on_readyz_and_every_backend_through_its_health_rpc(objects):
    deployments = of_kind(objects, "Deployment")
    gateway = container(deployments["gateway"])
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for name in BACKENDS:
        probed = container(deployments[name])
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            command = probed[probe]["exec"]["command"]
            assert command[:4] == ["python", "-m", "services.common.probe", name]
            deadline = float(command[command.index("--deadline") + 1])
            assert deadline < probed[probe]["timeoutSeconds"]
    with pytest.raises(SystemExit):  # the probe knows every backend, and only them
        probe_main(["gateway"])


def test_every_service_has_resources_a_budget_and_the_busy_ones_an_autoscaler(objects):
    deployments = of_kind(objects, "Deployment")
    budgets = of_kind(objects, "PodDisruptionBudget")
    autoscalers = of_kind(objects, "HorizontalPodAutoscaler")
    for name, deployment in deployments.items():
        resources = container(deployment)["resources"]
        assert resources["requests"]["memory"] and resources["limits"]["memory"]
        assert budgets[name]["spec"]["selector"] == deployment["spec"]["selector"]
        assert budgets[name]["spec"]["minAvailable"] < deployment["spec"]["replicas"]
    assert set(autoscalers) == AUTOSCALED
    for name, autoscaler in autoscalers.items():
        assert autoscaler["spec"]["scaleTargetRef"]["name"] == name
        # the autoscaler never takes a service below the replicas the overlay asks for
        assert autoscaler["spec"]["minReplicas"] == deployments[name]["spec"]["replicas"]


def test_every_service_runs_as_non_root_on_a_read_only_root_with_scratch_volumes(objects):
    for deployment in of_kind(objects, "Deployment").values():
        pod = deployment["spec"]["template"]["spec"]
        security = container(deployment)["securityContext"]
        assert pod["securityContext"]["runAsNonRoot"] and security["runAsNonRoot"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        mounted = {mount["mountPath"] for mount in container(deployment)["volumeMounts"]}
        assert {"/app/var", "/tmp"} <= mounted
        assert all("emptyDir" in volume for volume in pod["volumes"])


def test_credentials_come_from_secrets_that_exist_with_those_keys(objects):
    secrets = of_kind(objects, "Secret")
    config = of_kind(objects, "ConfigMap")["kompor-config"]["data"]
    assert config["KOMPOR_QUEUE_TYPE"] == "quorum"
    for name, deployment in of_kind(objects, "Deployment").items():
        env = {item["name"]: item for item in container(deployment)["env"]}
        for variable in ("AMQP_URI", "MONGO_URI", "KOMPOR_SECRET_KEY"):
            reference = env[variable]["valueFrom"]["secretKeyRef"]
            assert reference["key"] in secrets[reference["name"]]["stringData"], variable
        broker = env["AMQP_URI"]["valueFrom"]["secretKeyRef"]["name"]
        uri = urllib.parse.urlparse(secrets[broker]["stringData"]["AMQP_URI"])
        assert uri.username == name, "each service logs in to RabbitMQ as its own user"
        assert not set(config) & set(env)
    query = urllib.parse.parse_qs(
        urllib.parse.urlparse(secrets["kompor-mongodb"]["stringData"]["MONGO_URI"]).query
    )
    assert query["w"] == ["majority"] and query["retryWrites"] == ["true"]


def test_only_the_gateway_takes_traffic_from_outside(objects):
    services = of_kind(objects, "Service")
    ingresses = of_kind(objects, "Ingress")
    assert set(services) == {"gateway"} and set(ingresses) == {"gateway"}
    policies = of_kind(objects, "NetworkPolicy")
    deny = policies["deny-all-ingress"]["spec"]
    assert deny["podSelector"] == {} and "ingress" not in deny
    open_to_all = [
        name
        for name, policy in policies.items()
        if any("from" not in rule for rule in policy["spec"].get("ingress", []))
    ]
    assert open_to_all == ["gateway-from-anywhere"]
    selected = policies["gateway-from-anywhere"]["spec"]["podSelector"]["matchLabels"]
    assert selected == {"app.kubernetes.io/name": "gateway"}


def test_rabbitmq_is_a_cluster_of_three_with_quorum_queues(objects):
    (cluster,) = of_kind(objects, "RabbitmqCluster").values()
    assert cluster["apiVersion"] == CUSTOM["RabbitmqCluster"]
    assert set(cluster["spec"]) <= RABBITMQ_SPEC_FIELDS
    assert cluster["spec"]["replicas"] == 3
    config = cluster["spec"]["rabbitmq"]["additionalConfig"]
    assert "default_queue_type = quorum" in config
    mounted = cluster["spec"]["override"]["statefulSet"]["spec"]["template"]["spec"]
    secret = mounted["volumes"][0]["secret"]["secretName"]
    assert "definitions.json" in of_kind(objects, "Secret")[secret]["stringData"]


def test_mongodb_is_a_replica_set_of_three_with_the_fields_the_operator_requires(objects):
    (replica_set,) = of_kind(objects, "MongoDBCommunity").values()
    spec = replica_set["spec"]
    assert replica_set["apiVersion"] == CUSTOM["MongoDBCommunity"]
    assert MONGODB_SPEC_REQUIRED <= set(spec)
    assert spec["type"] in MONGODB_TYPES and spec["members"] == 3
    assert spec["security"]["authentication"]["modes"]
    secrets = of_kind(objects, "Secret")
    for user in spec["users"]:
        assert MONGODB_USER_REQUIRED <= set(user)
        assert user["passwordSecretRef"]["name"] in secrets
        assert all({"name", "db"} <= set(role) for role in user["roles"])
