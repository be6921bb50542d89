"""The emulator under Azure's own host names (azure_standins/azure_hosts.py): through the
proxy, over TLS with a certificate for those names, and nowhere else."""

import ssl
import urllib.error
import urllib.request

import pytest

INDEX = "https://pkgs.dev.azure.com/contoso/Widget%20Platform/_packaging/widgets/pypi/simple/"


def opener(azure_hosts):
    context = ssl.create_default_context(cafile=str(azure_hosts.ca_file))
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": azure_hosts.proxy.url}),
        urllib.request.HTTPSHandler(context=context),
    )


def test_the_feed_answers_as_pkgs_dev_azure_com_over_tls(azure_hosts):
    """Without credentials the feed asks for them (401), as artifacts-keyring expects
    before it answers; the certificate names the host."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener(azure_hosts).open(INDEX + "pytest/", timeout=30)
    assert refused.value.code == 401


def test_the_proxy_passes_only_azures_hosts(azure_hosts):
    with pytest.raises(urllib.error.URLError):
        opener(azure_hosts).open("https://pypi.org/simple/pytest/", timeout=30)
    assert "CONNECT pypi.org:443" in azure_hosts.proxy.refused
