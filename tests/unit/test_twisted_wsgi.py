"""Twisted's own WSGI tests, run against the package's resource and response.

``twisted.web.test.test_wsgi`` builds every resource it tests through its
module-global name ``WSGIResource``. Each class below is one of its
``TestCase`` classes whose ``setUp`` first points that name at the package's
``TrackingWSGIResource`` (which answers with ``BufferedWSGIResponse``), and
forbids Twisted's own ``WSGIResource.render``: a case that rendered through
Twisted's response instead of ours fails, it does not pass unnoticed.

Twisted's module is imported as a module, never its classes by name: pytest
collects every ``unittest.TestCase`` class bound in a test module, and would
run Twisted's originals, against Twisted, beside these.

Where the package differs from Twisted on purpose, the case is named in
``EXPECTED_DIFFERENCES``, with the reason; it is not run as Twisted wrote it,
and a test of the package's own behaviour stands beside it
(docs/explanation/twisted-wsgi-differences.rst).
"""

import inspect
import unittest

import pytest
from twisted.trial.unittest import TestCase
from twisted.web import wsgi
from twisted.web.test import test_wsgi as twisted_tests

from twistd_django.inflight import InFlight, TrackingWSGIResource
from twistd_django.writeback import BufferedWSGIResponse

# "Class.test_method" of Twisted's test_wsgi: why the package differs.
EXPECTED_DIFFERENCES = {}


class PackageResource:
    """Mixin, before Twisted's class: every resource that the Twisted case
    builds is the package's, and every response it makes is ours.

    ``self.resources`` and ``self.responses`` keep them, for the guard test.
    """

    def setUp(self):
        self.resources = []
        self.responses = []

        def build(reactor, threadpool, application):
            resource = TrackingWSGIResource(reactor, threadpool, application, InFlight())
            self.resources.append(resource)
            return resource

        def forbidden(resource, request):
            raise AssertionError("Twisted's WSGIResource.render ran, not the package's")

        run = BufferedWSGIResponse.run

        def recording_run(response):
            self.responses.append(response)
            return run(response)

        self.patch(twisted_tests, "WSGIResource", build)
        self.patch(wsgi.WSGIResource, "render", forbidden)
        self.patch(BufferedWSGIResponse, "run", recording_run)
        super().setUp()


def package_case(twisted_case):
    """The Twisted ``TestCase`` class ``twisted_case``, against the package."""
    overrides = {"__doc__": f"Twisted's {twisted_case.__name__}, with our resource."}
    for name in EXPECTED_DIFFERENCES:
        cls, _, method = name.partition(".")
        if cls == twisted_case.__name__:
            overrides[method] = unittest.skip(
                f"expected difference: {EXPECTED_DIFFERENCES[name]}"
            )(getattr(twisted_case, method))
    return type(f"Package{twisted_case.__name__}", (PackageResource, twisted_case), overrides)


def twisted_cases():
    """Twisted's test_wsgi classes that hold tests: TestCases, not mixins."""
    return sorted(
        (
            obj
            for obj in vars(twisted_tests).values()
            if inspect.isclass(obj)
            and issubclass(obj, TestCase)
            and obj.__module__ == twisted_tests.__name__
        ),
        key=lambda cls: cls.__name__,
    )


PackageWSGIResourceTests = package_case(twisted_tests.WSGIResourceTests)
PackageEnvironTests = package_case(twisted_tests.EnvironTests)
PackageInputStreamBytesIOTests = package_case(twisted_tests.InputStreamBytesIOTests)
PackageInputStreamTemporaryFileTests = package_case(
    twisted_tests.InputStreamTemporaryFileTests
)
PackageStartResponseTests = package_case(twisted_tests.StartResponseTests)
PackageApplicationTests = package_case(twisted_tests.ApplicationTests)

PACKAGE_CASES = [
    PackageApplicationTests,
    PackageEnvironTests,
    PackageInputStreamBytesIOTests,
    PackageInputStreamTemporaryFileTests,
    PackageStartResponseTests,
    PackageWSGIResourceTests,
]


def test_every_twisted_wsgi_test_case_runs_against_the_package():
    """A TestCase class that a new Twisted adds to test_wsgi must be added here."""
    assert [case.__bases__[1] for case in PACKAGE_CASES] == twisted_cases()


def test_every_expected_difference_names_a_twisted_test():
    for name in EXPECTED_DIFFERENCES:
        cls, _, method = name.partition(".")
        assert callable(getattr(getattr(twisted_tests, cls), method)), name


# One case of each class that renders a request, and its resource's path.
GUARDED = [
    (PackageApplicationTests, "test_close"),
    (PackageApplicationTests, "test_applicationCalledInThread"),
    (PackageEnvironTests, "test_headers"),
    (PackageInputStreamBytesIOTests, "test_readAll"),
    (PackageInputStreamTemporaryFileTests, "test_readAll"),
    (PackageStartResponseTests, "test_content"),
    (PackageWSGIResourceTests, "test_applicationAndRequestThrow"),
]


@pytest.mark.parametrize(("case", "method"), GUARDED)
def test_the_twisted_cases_exercise_the_package(case, method):
    """The guard: a case renders with TrackingWSGIResource and
    BufferedWSGIResponse, and passes."""
    test = case(method)
    result = unittest.TestResult()
    test.run(result)
    assert result.wasSuccessful(), result.errors + result.failures
    assert test.resources, "the case built no resource"
    assert all(type(r) is TrackingWSGIResource for r in test.resources)
    assert test.responses, "no BufferedWSGIResponse ran"
    assert all(isinstance(r, BufferedWSGIResponse) for r in test.responses)
