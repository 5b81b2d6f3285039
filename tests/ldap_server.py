"""A real OpenLDAP server for the directory tests: Debian's slapd on a loopback port.

`run_slapd(folder)` writes its own slapd.conf (back_mdb, the core, cosine,
inetorgperson and nis schemas, StartTLS with a certificate from a test CA),
loads an LDIF of test people with slapadd, starts slapd and waits until it
answers. `Directory` changes entries as the rootdn, as IT would.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import ldap3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ldap3.core.exceptions import LDAPException

from .server import free_port

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")

SUFFIX = "dc=example,dc=com"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "rootdn-Secret-4711"
PEOPLE_BASE = f"ou=people,{SUFFIX}"
SERVICE_DN = f"cn=microblog,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "bind-Secret-0815"


@dataclass(frozen=True)
class Person:
    """A test person's directory entry."""

    uid: str
    cn: str
    mail: str
    title: str
    department: str
    password: str

    @property
    def dn(self) -> str:
        """Return the entry's DN."""
        return f"uid={self.uid},{PEOPLE_BASE}"

    def attributes(self) -> dict[str, str | list[str]]:
        """Return the entry's attributes as ldap3 adds them (an empty one: left out)."""
        attributes = {
            "uid": self.uid,
            "cn": self.cn,
            "sn": self.cn.split()[-1],
            "mail": self.mail,
            "title": self.title,
            "departmentNumber": self.department,
            "userPassword": self.password,
        }
        return {"objectClass": ["inetOrgPerson"]} | {
            name: value for name, value in attributes.items() if value
        }


PEOPLE = (
    Person("kari", "Kari Nordmann", "Kari.Nordmann@example.com", "Utvikler", "Plattform", "kari-Pw-æøå-1"),
    Person("orjan", "Ørjan Åsheim", "orjan@example.com", "Driftsleder", "Drift", "orjan-Pw-2"),
    Person("ase", "Åse Bø", "ase@example.com", "Økonomisjef", "Økonomi", "ase-Pw-3"),
)

_BASE_LDIF = f"""\
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: {PEOPLE_BASE}
objectClass: organizationalUnit
ou: people

dn: ou=services,{SUFFIX}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: microblog
userPassword: {SERVICE_PASSWORD}
"""


def _ldif() -> str:
    entries = [_BASE_LDIF]
    for person in PEOPLE:
        lines = [f"dn: {person.dn}"]
        for name, value in person.attributes().items():
            lines += [f"{name}: {v}" for v in (value if isinstance(value, list) else [value])]
        entries.append("\n".join(lines) + "\n")
    return "\n".join(entries)


def _certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_certificates(folder: Path) -> None:
    """Write a test CA (ca.pem) and slapd's certificate for 127.0.0.1 signed by it."""
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("microblog test CA", ca_key, "microblog test CA", ca_key, ca=True)
    server = _certificate("127.0.0.1", server_key, "microblog test CA", ca_key, ca=False)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _slapd_conf(folder: Path) -> str:
    schemas = "\n".join(
        f"include {SCHEMA_DIR / name}.schema" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    # Passwords: anyone may bind with them, nobody reads them.  Entries: bound users only,
    # so microblog must use its service account.
    return f"""\
{schemas}
modulepath {MODULE_DIR}
moduleload back_mdb
pidfile {folder / "slapd.pid"}
argsfile {folder / "slapd.args"}
TLSCACertificateFile {folder / "ca.pem"}
TLSCertificateFile {folder / "server.pem"}
TLSCertificateKeyFile {folder / "server.key"}

database mdb
maxsize 16777216
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {folder / "db"}
index objectClass,uid eq
access to attrs=userPassword by anonymous auth by self auth by * none
access to * by users read by * none
"""


def slapd_available() -> bool:
    """Return whether slapd, slapadd, the schemas and back_mdb are installed."""
    return (
        Path(SLAPD).is_file()
        and Path(SLAPADD).is_file()
        and (SCHEMA_DIR / "inetorgperson.schema").is_file()
        and any(MODULE_DIR.glob("back_mdb*"))
    )


def _wait_until_answering(process: subprocess.Popen, url: str, log: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"slapd exited with {process.returncode}:\n{log.read_text()}")
        try:
            ldap3.Connection(
                ldap3.Server(url, connect_timeout=1), ROOT_DN, ROOT_PASSWORD, auto_bind=True
            ).unbind()
            return
        except LDAPException:
            if time.monotonic() > deadline:
                raise RuntimeError(f"slapd did not answer on {url}:\n{log.read_text()}") from None
            time.sleep(0.1)


@dataclass(frozen=True)
class Slapd:
    """A running slapd: its URL, and the CA file that verifies its certificate (StartTLS)."""

    url: str
    ca_file: str


@contextmanager
def run_slapd(folder: Path) -> Iterator[Slapd]:
    """Run slapd with the test people on a free loopback port until the block ends."""
    (folder / "db").mkdir(parents=True)
    _write_certificates(folder)
    conf = folder / "slapd.conf"
    conf.write_text(_slapd_conf(folder))
    (folder / "people.ldif").write_text(_ldif(), encoding="utf-8")
    subprocess.run(
        [SLAPADD, "-f", str(conf), "-l", str(folder / "people.ldif")], check=True, capture_output=True
    )
    url = f"ldap://127.0.0.1:{free_port()}"
    log = folder / "slapd.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [SLAPD, "-h", url + "/", "-f", str(conf), "-d", "0"], stdout=out, stderr=out
        )
    try:
        _wait_until_answering(process, url, log)
        yield Slapd(url, str(folder / "ca.pem"))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Directory:
    """The running test directory, changed as its rootdn."""

    def __init__(self, url: str) -> None:
        self.url = url

    def _admin(self) -> ldap3.Connection:
        return ldap3.Connection(ldap3.Server(self.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True)

    def reset(self) -> None:
        """Put the people back as the LDIF has them."""
        conn = self._admin()
        try:
            conn.search(PEOPLE_BASE, "(objectClass=*)", ldap3.LEVEL, attributes=[])
            for dn in [entry.entry_dn for entry in conn.entries]:
                conn.delete(dn)
            for person in PEOPLE:
                self._check(conn, conn.add(person.dn, attributes=person.attributes()))
        finally:
            conn.unbind()

    def add(self, person: Person) -> None:
        """Add a person."""
        conn = self._admin()
        try:
            self._check(conn, conn.add(person.dn, attributes=person.attributes()))
        finally:
            conn.unbind()

    def modify(self, uid: str, **values: str) -> None:
        """Replace attributes of a person's entry (attribute name=new value)."""
        conn = self._admin()
        try:
            changes = {name: [(ldap3.MODIFY_REPLACE, [value])] for name, value in values.items()}
            self._check(conn, conn.modify(f"uid={uid},{PEOPLE_BASE}", changes))
        finally:
            conn.unbind()

    def delete(self, uid: str) -> None:
        """Remove a person from the directory."""
        conn = self._admin()
        try:
            self._check(conn, conn.delete(f"uid={uid},{PEOPLE_BASE}"))
        finally:
            conn.unbind()

    @staticmethod
    def _check(conn: ldap3.Connection, ok: bool) -> None:
        if not ok:
            raise AssertionError(f"directory change failed: {conn.result}")
