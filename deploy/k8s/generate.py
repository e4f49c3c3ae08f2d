"""Writes ``deploy/k8s/base/services.yaml``: for every service in
``services/common/topology.py`` a Deployment (the one image, deploy/Dockerfile), its
probes, resources, a PodDisruptionBudget, and for the gateway, catalogue and orders a
HorizontalPodAutoscaler.

    python deploy/k8s/generate.py          # after adding a service to the topology

``tests/unit/test_k8s_manifests.py`` fails while the file is not what this writes.

Resources come from the measured peak RSS of each service under the mixed benchmark
(README, "Benchmarks": community 124 MB, catalogue 128 MB, orders 62 MB, notifications
67 MB, gateway 61 MB): the request is 1.5 times the peak, the limit twice the request;
a service not measured yet gets 128/256 Mi. CPU: the busiest service used 13 % of a
core at 20 requests/s (catalogue); each asks 100m (catalogue 200m) and may burst to a
core.
"""

import math
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.common.topology import SERVICES  # noqa: E402

OUT = pathlib.Path(__file__).with_name("base") / "services.yaml"
IMAGE = "kompor-desa:latest"
PART_OF = "kompor-desa"
PEAK_RSS_MB = {"community": 124, "catalogue": 128, "orders": 62, "notifications": 67, "gateway": 61}
CPU_REQUEST = {"catalogue": "200m"}
AUTOSCALED = ("gateway", "catalogue", "orders")
GATEWAY_PORT = 8000
PROBE_DEADLINE = 3


def labels(name):
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": PART_OF}


def memory(name):
    peak = PEAK_RSS_MB.get(name)
    if peak is None:
        return "128Mi", "256Mi"
    request = math.ceil(peak * 1.5 / 32) * 32
    return f"{request}Mi", f"{request * 2}Mi"


def secret_env(variable, secret, key):
    return {"name": variable, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def probes(name):
    if name == "gateway":
        ready = {"httpGet": {"path": "/readyz", "port": "http"}}
        alive = {"httpGet": {"path": "/healthz", "port": "http"}}
    else:
        command = ["python", "-m", "services.common.probe", name]
        ready = alive = {"exec": {"command": [*command, "--deadline", str(PROBE_DEADLINE)]}}
    timeout = PROBE_DEADLINE + 2
    return {
        "startupProbe": {
            **ready,
            "periodSeconds": 5,
            "timeoutSeconds": timeout,
            "failureThreshold": 24,
        },
        "readinessProbe": {
            **ready,
            "periodSeconds": 10,
            "timeoutSeconds": timeout,
            "failureThreshold": 3,
        },
        "livenessProbe": {
            **alive,
            "periodSeconds": 20,
            "timeoutSeconds": timeout,
            "failureThreshold": 3,
        },
    }


def deployment(name, service_class):
    request, limit = memory(name)
    container = {
        "name": name,
        "image": IMAGE,
        "command": ["nameko", "run", "--config", "deploy/config.yaml", service_class],
        "envFrom": [{"configMapRef": {"name": "kompor-config"}}],
        "env": [
            secret_env("AMQP_URI", f"kompor-{name}-broker", "AMQP_URI"),
            secret_env("MONGO_URI", "kompor-mongodb", "MONGO_URI"),
            secret_env("KOMPOR_SECRET_KEY", "kompor-secret-key", "KOMPOR_SECRET_KEY"),
        ],
        "resources": {
            "requests": {"cpu": CPU_REQUEST.get(name, "100m"), "memory": request},
            "limits": {"cpu": "1", "memory": limit},
        },
        **probes(name),
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "data", "mountPath": "/app/var"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }
    if name == "gateway":
        container["ports"] = [{"name": "http", "containerPort": GATEWAY_PORT}]
        container["env"].append({"name": "GATEWAY_ADDRESS", "value": f"0.0.0.0:{GATEWAY_PORT}"})
        container["env"].append(
            secret_env("INBOUND_WEBHOOK_SECRET", "kompor-inbound-webhook", "INBOUND_WEBHOOK_SECRET")
        )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels(name)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {
                "metadata": {"labels": labels(name)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "data", "emptyDir": {"sizeLimit": "64Mi"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
                    ],
                },
            },
        },
    }


def disruption_budget(name):
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": labels(name)}},
    }


def autoscaler(name):
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "labels": labels(name)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 2,
            "maxReplicas": 10,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def documents():
    for name, service_class in SERVICES.items():
        yield deployment(name, service_class)
        yield disruption_budget(name)
        if name in AUTOSCALED:
            yield autoscaler(name)


def render():
    header = "# Written by deploy/k8s/generate.py from services/common/topology.py: do not edit.\n"
    return header + yaml.safe_dump_all(documents(), sort_keys=False, width=100)


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT.relative_to(ROOT)}")
