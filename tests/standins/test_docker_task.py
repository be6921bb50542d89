"""Docker@2 in the pipeline runner, with buildah standing in for the agent's Docker: a
registry connection qualifies the image's name with its login server, and a push sends only
an image the agent built."""

from azure_standins.images import buildah, remove
from azure_standins.pipeline.protected import ServiceConnection
from tests.standins.test_pipeline_runner import pipeline_runner, stage

REGISTRY = ServiceConnection(token="registry-password", url="registry.contoso.com")
DOCKERFILE = "FROM scratch\nCOPY hello.txt /hello.txt\n"


def docker(command: str, **inputs) -> dict:
    return {
        "task": "Docker@2",
        "displayName": command,
        "inputs": {"command": command, "repository": "widgets", "tags": "1.0", **inputs},
    }


def test_a_registry_connection_qualifies_the_images_name_with_its_login_server(tmp_path):
    build = docker("build", containerRegistry="registry", Dockerfile="Dockerfile", buildContext=".")
    runner = pipeline_runner(
        tmp_path,
        [stage("Image", build)],
        files={"Dockerfile": DOCKERFILE, "hello.txt": "hello\n"},
        service_connections={"registry": REGISTRY},
    )
    try:
        result = runner.run()
        assert result.succeeded, result.log
        found = buildah(
            "inspect", "--type", "image", "registry.contoso.com/widgets:1.0", check=False
        )
        assert found.returncode == 0, found.stderr
    finally:
        remove("registry.contoso.com/widgets:1.0")
        remove("widgets:1.0")


def test_a_push_sends_only_an_image_the_agent_built(tmp_path):
    push = docker("push", containerRegistry="registry", repository="never-built")
    runner = pipeline_runner(
        tmp_path, [stage("Image", push)], service_connections={"registry": REGISTRY}
    )
    result = runner.run()
    step = result.job("Image").step("push")
    assert step.status == "failed"
    assert "An image does not exist locally with the tag: registry.contoso.com/never-built" in (
        step.output
    )
    assert not (runner.registries / "registry.contoso.com").exists()
