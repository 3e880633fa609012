"""Routers of the service's own API, one module per area.

Adding an area (say ``/api/v1/items``):

1. ``suraksha/web/routes/items.py``::

       router = APIRouter(prefix=f"{API_V1}/items", tags=["items"], responses=PROBLEM_RESPONSES)

       @router.post("", status_code=201, dependencies=[require(ApiScope.INGEST)])
       def submit(body: ItemIn, state: WebState = Depends(get_state)) -> ItemOut:
           with state.platform.db.session() as session:
               ...  # call the area's services; raise suraksha.errors, never HTTPException

   (``API_V1`` from this package, ``PROBLEM_RESPONSES`` from ``suraksha.web.problems``, ``require``
   from ``suraksha.web.auth``, ``WebState``/``get_state`` from ``suraksha.web.state``.) Take the
   caller as a parameter (``caller: ApiCaller = require(ApiScope.INGEST)``) when the route records
   who did something. Routes that do database or CPU work are plain ``def`` (FastAPI runs them in
   its thread pool); ``async def`` only for reading bodies, then ``run_in_threadpool`` for the work.
   The match index is ``state.index``: ``index.match(...)`` raises ``IndexNotReady`` (503) when it
   cannot answer. Request bodies are bounded by ``web_max_body_bytes`` before a route sees them.
2. Add ``items.router`` to ``ROUTERS`` in ``suraksha/web/app.py``.
3. Tests in ``tests/functional/web/`` (fixtures: ``client``, ``keys``, ``ready_app``; see conftest).
"""

API_V1 = "/api/v1"
