"""Downloads trust nothing before the checksum: a size cap, no redirect from
https to plain http, https sources, and a full disk reported as one. Servers
run on 127.0.0.1 only."""
import contextlib
import errno
import http.server
import re
import shutil
import ssl
import subprocess
import threading

import pytest

from minicnn.datasets import DatasetError, cifar10, download, fashion_mnist, mnist
from test_datasets import (cache_folder, cifar10_arrays, files_in, http_server,  # noqa: F401
                           official_archive)


class NoLengthHandler(http.server.SimpleHTTPRequestHandler):
    """Sends a file without announcing its length, as a chunked or streaming server may."""

    def send_header(self, keyword, value):
        if keyword != 'Content-Length':
            super().send_header(keyword, value)


@pytest.mark.parametrize('handler, said', [
    (http.server.SimpleHTTPRequestHandler, r'announces \d+ bytes'),
    (NoLengthHandler, r'sent more than 1000 bytes'),
], ids=['announced', 'not announced'])
def test_download_larger_than_the_data_set_stops(tmp_path, cache_folder, monkeypatch,
                                                  handler, said):
    archive, md5 = official_archive(tmp_path / 'site', cifar10_arrays())
    monkeypatch.setattr(cifar10, 'MD5', md5)
    monkeypatch.setattr(cifar10, 'MAX_DOWNLOAD', 1000)
    with http_server(archive.parent, handler) as url:
        monkeypatch.setattr(cifar10, 'URL', url + archive.name)
        with pytest.raises(DatasetError, match=rf'{re.escape(url)}.*: the server {said}, more '
                                               rf'than the 1000 bytes the file can be'):
            cifar10.load_data()
    assert files_in(cache_folder) == []


@pytest.fixture(scope='module')
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (certificate file, key file)."""
    if shutil.which('openssl') is None:
        pytest.skip('openssl is not installed')
    folder = tmp_path_factory.mktemp('tls')
    cert, key = folder / 'cert.pem', folder / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
                    '-keyout', str(key), '-out', str(cert)], check=True, capture_output=True,
                   timeout=60)
    return cert, key


@contextlib.contextmanager
def https_redirect(certificate, target):
    """An https server on 127.0.0.1 answering every request with a redirect to ``target``."""
    class Redirect(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            self.send_response(302)
            self.send_header('Location', target)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Redirect)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05})
    thread.start()
    try:
        yield f'https://127.0.0.1:{server.server_port}/'
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_no_redirect_from_https_to_http(tmp_path, cache_folder, monkeypatch, certificate):
    monkeypatch.setenv('SSL_CERT_FILE', str(certificate[0]))  # trust the test's certificate
    archive, md5 = official_archive(tmp_path / 'site', cifar10_arrays())
    monkeypatch.setattr(cifar10, 'MD5', md5)
    with http_server(archive.parent) as plain:
        with https_redirect(certificate, plain + archive.name) as secure:
            monkeypatch.setattr(cifar10, 'URL', secure + archive.name)
            with pytest.raises(DatasetError, match=rf'{re.escape(secure)}.*: the server redirects '
                                                   rf'to {re.escape(plain)}.*, which is not https'):
                cifar10.load_data()
    assert files_in(cache_folder) == []


def test_sources_are_https(monkeypatch):
    monkeypatch.undo()  # the addresses as published, not those cache_folder points elsewhere
    for url in (cifar10.URL, mnist.BASE_URL, fashion_mnist.BASE_URL):
        assert url.startswith('https://'), url


def test_full_disk_is_reported_as_a_full_disk(tmp_path, cache_folder, monkeypatch):
    archive, md5 = official_archive(tmp_path / 'site', cifar10_arrays())
    monkeypatch.setattr(cifar10, 'URL', archive.as_uri())
    monkeypatch.setattr(cifar10, 'MD5', md5)
    real_atomic_write = download.atomic_write

    @contextlib.contextmanager
    def full_disk(path):
        with real_atomic_write(path) as file:
            class Full:
                def write(self, data):
                    raise OSError(errno.ENOSPC, 'No space left on device')
            yield Full()

    monkeypatch.setattr(download, 'atomic_write', full_disk)
    with pytest.raises(DatasetError, match=rf'{re.escape(str(cache_folder))}: the disk is full'):
        cifar10.load_data()
    assert files_in(cache_folder) == []
