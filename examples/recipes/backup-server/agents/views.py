"""Views that need the Twisted side: which agents are connected, and are they
alive. Each goes through ``backupserver.bridge``, so none waits for ever."""

from django.http import HttpResponse, JsonResponse

from backupserver import bridge
from backupserver.protocol import AgentGone, NotConnected


def agent_list(request):
    try:
        agents = bridge.call("connected")
    except (bridge.Unavailable, bridge.Timeout) as error:
        return error_page(error)
    return JsonResponse({"agents": agents})


def ping(request, host):
    try:
        seconds = bridge.call("ping", host)
    except NotConnected:
        return error_page(f"no agent of {host} is connected", status=404)
    except AgentGone as error:
        return error_page(error, status=502)
    except (bridge.Unavailable, bridge.Timeout) as error:
        return error_page(error)
    return JsonResponse({"host": host, "seconds": seconds})


def error_page(error, status=None):
    if status is None:
        status = 504 if isinstance(error, bridge.Timeout) else 503
    return HttpResponse(
        f"{status} {error}\n", status=status, content_type="text/plain; charset=utf-8"
    )
