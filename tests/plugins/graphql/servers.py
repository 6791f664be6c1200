"""A real GraphQL server for the tests: an ariadne schema with queries, mutations, a subscription,
input objects, enums, interfaces, a union, lists, nested and cyclic objects, served by uvicorn on
127.0.0.1 in a thread behind a credential gate (401 without it, 403 echoing a wrong one)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

import orjson
from ariadne import (
    EnumType,
    InterfaceType,
    MutationType,
    ObjectType,
    QueryType,
    ScalarType,
    SubscriptionType,
    UnionType,
    make_executable_schema,
)
from ariadne.asgi import GraphQL
from graphql import GraphQLSchema

from harness.asgi import running

TOKEN = "gql-s3cret-token-for-tests"

TYPE_DEFS = '''
"""A small pet shop."""
schema { query: Query mutation: Mutation subscription: Subscription }

"""An ISO-8601 date and time."""
scalar DateTime

enum Color { RED GREEN BLUE PURPLE @deprecated(reason: "no purple pets") }
enum SortOrder { ASC DESC }

interface Node { id: ID! }
interface Named { name: String! }

"""A pet in the shop."""
type Pet implements Node & Named {
  id: ID!
  name: String!
  color: Color
  tags: [String!]!
  born: DateTime
  owner: Person
  friends: [Pet!]!
  weight(unit: String = "kg"): Float
  photo(size: Int!): String
  oldName: String @deprecated(reason: "use name")
}

type Person implements Node & Named {
  id: ID!
  name: String!
  pets(first: Int = 10): [Pet!]!
  address: Address
}

type Address { street: String city: String geo: Geo }
type Geo { lat: Float lng: Float }

"""Receipts share field names with pets and people, with other types."""
type Receipt { id: Int name: Int total: Float }

"""Nothing to select but more of the same."""
type Empty { more: Hollow }
type Hollow { back: Empty }

union SearchResult = Pet | Person | Receipt

input DateRange { from: DateTime! to: DateTime }

"""How to filter pets; filters nest."""
input PetFilter {
  color: Color
  nameContains: String
  born: DateRange
  and: [PetFilter!]
}

input NewPet {
  name: String!
  color: Color = RED
  tags: [String!] = []
}

type Query {
  "Say hello"
  hello(name: String = "world"): String!
  pets(filter: PetFilter, order: SortOrder = ASC, first: Int! = 10): [Pet!]!
  pet(id: ID!): Pet
  node(id: ID!): Node
  search(text: String!): [SearchResult!]!
  empty: Empty
  me: Person
  legacy: String @deprecated(reason: "gone soon")
}

type Mutation {
  setGreeting(greeting: String!): String!
  addPet(input: NewPet!): Pet!
  deletePet(id: ID!): Boolean!
}

type Subscription {
  petAdded: Pet!
}
'''

PEOPLE = {"u1": {"id": "u1", "name": "Ada", "address": {"city": "London", "geo": {"lat": 51.5}}}}
PETS = {
    "p1": {"id": "p1", "name": "Rex", "color": "RED", "tags": ["good"], "owner": "u1"},
    "p2": {"id": "p2", "name": "Tom", "color": "BLUE", "tags": [], "owner": None},
}


def _pet(raw: dict[str, Any]) -> dict[str, Any]:
    return {**raw, "owner": PEOPLE.get(raw["owner"]) if raw.get("owner") else None}


def build_schema() -> GraphQLSchema:
    query, mutation, subscription = QueryType(), MutationType(), SubscriptionType()
    state = {"greeting": "hello"}

    @query.field("hello")
    def hello(*_: Any, name: str) -> str:
        return f"{state['greeting']}, {name}"

    @query.field("pets")
    def pets(*_: Any, first: int, order: str, filter: dict[str, Any] | None = None) -> Any:
        found = [_pet(p) for p in PETS.values()]
        if filter and filter.get("color"):
            found = [p for p in found if p["color"] == filter["color"]]
        return sorted(found, key=lambda p: p["name"], reverse=order == "DESC")[:first]

    @query.field("pet")
    def pet(*_: Any, id: str) -> Any:
        return _pet(PETS[id]) if id in PETS else None

    @query.field("node")
    def node(*_: Any, id: str) -> Any:
        return _pet(PETS[id]) if id in PETS else PEOPLE.get(id)

    @query.field("search")
    def search(*_: Any, text: str) -> Any:
        return [_pet(PETS["p1"]), PEOPLE["u1"], {"id": 7, "name": 3, "total": 9.5}]

    @query.field("me")
    def me(*_: Any) -> Any:
        return PEOPLE["u1"]

    @mutation.field("setGreeting")
    def set_greeting(*_: Any, greeting: str) -> str:
        state["greeting"] = greeting
        return greeting

    @mutation.field("addPet")
    def add_pet(*_: Any, input: dict[str, Any]) -> Any:
        raw = {"id": f"p{len(PETS) + 1}", "owner": None, **input}
        return _pet(raw)

    @subscription.source("petAdded")
    async def pet_added(*_: Any) -> AsyncIterator[Any]:
        yield _pet(PETS["p1"])

    def resolve_kind(obj: Any, *_: Any) -> str:
        if "total" in obj:
            return "Receipt"
        return "Pet" if "tags" in obj else "Person"

    pet_type, person = ObjectType("Pet"), ObjectType("Person")
    pet_type.set_field("friends", lambda *_: [])
    pet_type.set_field("weight", lambda *_, unit: 4.5 if unit == "kg" else 9.9)
    person.set_field("pets", lambda obj, *_, first: [_pet(p) for p in PETS.values()][:first])
    return make_executable_schema(
        TYPE_DEFS,
        query,
        mutation,
        subscription,
        pet_type,
        person,
        EnumType("Color", {"RED": "RED", "GREEN": "GREEN", "BLUE": "BLUE", "PURPLE": "PURPLE"}),
        ScalarType("DateTime"),
        UnionType("SearchResult", resolve_kind),
        InterfaceType("Node", resolve_kind),
        InterfaceType("Named", resolve_kind),
    )


Check = Callable[[dict[str, str], dict[str, list[str]], dict[str, str]], str | None]
"""(headers, query parameters, cookies) → the credential presented, or None when there is none."""


def bearer(headers: dict[str, str], _q: dict[str, list[str]], _c: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else None


def header(name: str, prefix: str = "") -> Check:
    def check(headers: dict[str, str], _q: Any, _c: Any) -> str | None:
        value = headers.get(name)
        return value.removeprefix(prefix) if value is not None else None

    return check


def query_param(name: str) -> Check:
    return lambda _h, query, _c: (query.get(name) or [None])[0]


def cookie(name: str) -> Check:
    return lambda _h, _q, cookies: cookies.get(name)


@dataclass
class Gate:
    """ASGI middleware: 401 without a credential, 403 (echoing it, as careless servers do) with a
    wrong one. Records every request it sees."""

    app: Any
    check: Check | None = bearer
    token: str = TOKEN
    seen: list[dict[str, str]] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        headers[":query"] = scope.get("query_string", b"").decode()
        self.seen.append(headers)
        if self.check is not None:
            query = parse_qs(scope.get("query_string", b"").decode())
            jar = SimpleCookie(headers.get("cookie", ""))
            presented = self.check(headers, query, {k: m.value for k, m in jar.items()})
            if presented is None:
                await _reply(send, 401, {"message": "Requires authentication"})
                return
            if presented != self.token:
                body = {"errors": [{"message": f"token {presented} is not allowed here"}]}
                await _reply(send, 403, body)
                return
        await self.app(scope, receive, send)


async def _reply(send: Any, status: int, body: dict[str, Any]) -> None:
    data = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(data)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def graphql_app(*, check: Check | None = bearer, introspection: bool = True) -> Gate:
    return Gate(GraphQL(build_schema(), introspection=introspection), check=check)


@dataclass
class Running:
    port: int
    app: Any

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"


@contextmanager
def serve(app: Any) -> Iterator[Running]:
    """Run an ASGI app with uvicorn on 127.0.0.1 (a random port) in a thread."""
    with running(app, ws="none") as (_, port):
        yield Running(port, app)
