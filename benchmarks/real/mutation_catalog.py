"""The mutations of the selection benchmark (``mutations.py``): text edits of real projects' files.

Each is one replacement of text that occurs exactly once in a file of the unpacked sdist. Most
are meant to break some tests, so that recall is measured against a real failure; the ones that
are not (``breaks=False``) say why in their label. attrs has none: its suite (hypothesis) takes
minutes per full run, and every mutation needs one.
"""

from __future__ import annotations

from dataclasses import dataclass

# The kinds that change module-level code (the ``<module>`` block of a Python file).
MODULE_LEVEL_KINDS = frozenset({"module constant", "derived constant", "default argument", "class attribute"})


@dataclass(frozen=True)
class Mutation:
    """Replace ``old`` (once) by ``new`` in ``path`` of ``project``'s unpacked sdist."""

    project: str
    label: str
    kind: str
    path: str
    old: str
    new: str
    breaks: bool = True  # meant to change some test's outcome


MUTATIONS = (
    # itsdangerous
    Mutation(
        "itsdangerous",
        "base64_decode drops padding",
        "function body",
        "src/itsdangerous/encoding.py",
        'string += b"=" * (-len(string) % 4)',
        'string += b""',
    ),
    Mutation(
        "itsdangerous",
        "_int64_struct little-endian (read through _int_to_bytes)",
        "derived constant",
        "src/itsdangerous/encoding.py",
        '_int64_struct = struct.Struct(">Q")',
        '_int64_struct = struct.Struct("<Q")',
    ),
    Mutation(
        "itsdangerous",
        "_base64_alphabet loses '-'",
        "module constant",
        "src/itsdangerous/encoding.py",
        '{string.digits}-_=".encode',
        '{string.digits}_=".encode',
    ),
    Mutation(
        "itsdangerous",
        "Signer(sep=) default '.' -> '|'",
        "default argument",
        "src/itsdangerous/signer.py",
        'sep: str | bytes = b".",',
        'sep: str | bytes = b"|",',
    ),
    Mutation(
        "itsdangerous",
        "Signer.default_key_derivation (TimestampSigner inherits)",
        "class attribute",
        "src/itsdangerous/signer.py",
        'default_key_derivation: str = "django-concat"',
        'default_key_derivation: str = "concat"',
    ),
    Mutation(
        "itsdangerous",
        "a comment in signer.py (no test can break)",
        "comment only",
        "src/itsdangerous/signer.py",
        "    #: The default scheme to use",
        "    #: The default scheme (see derive_key) to use",
        breaks=False,
    ),
    # marshmallow
    Mutation(
        "marshmallow",
        "utils.is_collection accepts mappings",
        "function body",
        "src/marshmallow/utils.py",
        "return is_iterable_but_not_string(obj) and not isinstance(obj, Mapping)",
        "return is_iterable_but_not_string(obj)",
    ),
    Mutation(
        "marshmallow",
        "Field.default_error_messages['required'] (every field subclass)",
        "class attribute",
        "src/marshmallow/fields.py",
        '"required": "Missing data for required field."',
        '"required": "Missing data for a required field."',
    ),
    Mutation(
        "marshmallow",
        "Boolean.truthy loses 'on'",
        "class attribute",
        "src/marshmallow/fields.py",
        '        "on",\n        "On",\n        "ON",\n',
        '        "On",\n        "ON",\n',
    ),
    Mutation(
        "marshmallow",
        "utils.RAISE value (imported by name elsewhere)",
        "module constant",
        "src/marshmallow/utils.py",
        'RAISE = "raise"',
        'RAISE = "raise!"',
    ),
    Mutation(
        "marshmallow",
        "decorators.PRE_DUMP value (every reader uses the name)",
        "module constant",
        "src/marshmallow/decorators.py",
        'PRE_DUMP = "pre_dump"',
        'PRE_DUMP = "pre-dump"',
        breaks=False,
    ),
    Mutation(
        "marshmallow",
        "_iso8601_datetime_re needs 2-digit months",
        "module constant",
        "src/marshmallow/utils.py",
        '_iso8601_datetime_re = re.compile(\n    r"(?P<year>\\d{4})-(?P<month>\\d{1,2})',
        '_iso8601_datetime_re = re.compile(\n    r"(?P<year>\\d{4})-(?P<month>\\d{2})',
    ),
    Mutation(
        "marshmallow",
        "Float(allow_nan=) default True",
        "default argument",
        "src/marshmallow/fields.py",
        "def __init__(self, *, allow_nan: bool = False,",
        "def __init__(self, *, allow_nan: bool = True,",
    ),
    Mutation(
        "marshmallow",
        "tests/base.py UserSchema.id dump_default",
        "class attribute",
        "tests/base.py",
        'id = fields.String(dump_default="no-id")',
        'id = fields.String(dump_default="none")',
    ),
    Mutation(
        "marshmallow",
        "conftest user fixture's age",
        "conftest fixture",
        "tests/conftest.py",
        'User(name="Monty", age=42.3,',
        'User(name="Monty", age=42.4,',
    ),
    Mutation(
        "marshmallow",
        "pytest filterwarnings: the validator warning becomes an error",
        "pytest setting",
        "pyproject.toml",
        '"ignore:Returning `False` from a validator',
        '"error:Returning `False` from a validator',
    ),
    Mutation(
        "marshmallow",
        "a comment in fields.py (no test can break)",
        "comment only",
        "src/marshmallow/fields.py",
        "    #: Default error messages for various kinds",
        "    #: Default error messages (a dict) for various kinds",
        breaks=False,
    ),
    # tomlkit
    Mutation(
        "tomlkit",
        "escape_string skips the compact escapes",
        "function body",
        "tomlkit/_utils.py",
        "found_sequences = {seq for seq in escape_sequences if seq in s}",
        "found_sequences = {seq for seq in escape_sequences if seq in s and len(seq) > 1}",
    ),
    Mutation(
        "tomlkit",
        "CTRL_CHAR_LIMIT one lower",
        "module constant",
        "tomlkit/parser.py",
        "CTRL_CHAR_LIMIT = 0x1F",
        "CTRL_CHAR_LIMIT = 0x1E",
    ),
    Mutation(
        "tomlkit",
        "_escaped loses '\\f' (read through _compact_escapes)",
        "derived constant",
        "tomlkit/_utils.py",
        '    "f": "\\f",\n',
        "",
    ),
    Mutation(
        "tomlkit",
        "Array.add_line(indent=) default",
        "default argument",
        "tomlkit/items.py",
        'indent: str = "    ",\n        comment: str | None = None,',
        'indent: str = "  ",\n        comment: str | None = None,',
    ),
    Mutation(
        "tomlkit",
        "Trivia.trail default",
        "class attribute",
        "tomlkit/items.py",
        'trail: str = "\\n"',
        'trail: str = "\\r\\n"',
    ),
    Mutation(
        "tomlkit",
        "examples/example.toml owner.organization",
        "data file",
        "tests/examples/example.toml",
        'organization = "GitHub"',
        'organization = "GitLab"',
    ),
    Mutation(
        "tomlkit",
        "conftest example fixture reads ASCII",
        "conftest fixture",
        "tests/conftest.py",
        'name + ".toml"),\n            encoding="utf-8",',
        'name + ".toml"),\n            encoding="ascii",',
    ),
    Mutation(
        "tomlkit",
        "a comment in parser.py (no test can break)",
        "comment only",
        "tomlkit/parser.py",
        "CTRL_I = 0x09  # Tab",
        "CTRL_I = 0x09  # Tab (horizontal)",
        breaks=False,
    ),
    # structlog: every test resets the default processors, a list built at import that holds a
    # ConsoleRenderer, a TimeStamper and others.
    Mutation(
        "structlog",
        "_EVENT_WIDTH (ConsoleRenderer's default, an instance made at import holds it)",
        "module constant",
        "src/structlog/dev.py",
        "_EVENT_WIDTH = 30  # pad",
        "_EVENT_WIDTH = 31  # pad",
    ),
    Mutation(
        "structlog",
        "stdlib.LOG_KWARG_NAMES loses 'stacklevel' (module-level tuple)",
        "module constant",
        "src/structlog/stdlib.py",
        'LOG_KWARG_NAMES = ("exc_info", "stack_info", "stacklevel")',
        'LOG_KWARG_NAMES = ("exc_info", "stack_info")',
    ),
    Mutation(
        "structlog",
        "TimeStamper(key=) default 'timestamp' -> 'ts'",
        "default argument",
        "src/structlog/processors.py",
        'key: str = "timestamp",\n    ) -> None:\n        self.fmt, self.utc, self.key',
        'key: str = "ts",\n    ) -> None:\n        self.fmt, self.utc, self.key',
    ),
    Mutation(
        "structlog",
        "CallsiteParameter.FILENAME value (an Enum member)",
        "class attribute",
        "src/structlog/processors.py",
        'FILENAME = "filename"',
        'FILENAME = "file_name"',
    ),
    Mutation(
        "structlog",
        "UnicodeEncoder stops encoding",
        "function body",
        "src/structlog/processors.py",
        "event_dict[key] = value.encode(self._encoding, self._errors)",
        "event_dict[key] = value",
    ),
    Mutation(
        "structlog",
        "a comment in _base.py (no test can break)",
        "comment only",
        "src/structlog/_base.py",
        "# SPDX-License-Identifier: MIT OR Apache-2.0",
        "# SPDX-License-Identifier: MIT OR Apache-2.0 (dual)",
        breaks=False,
    ),
    # jinja2: templates are files its loaders read; DEFAULT_POLICIES is copied into each Environment.
    Mutation(
        "jinja2",
        "do_capitalize upper-cases",
        "function body",
        "src/jinja2/filters.py",
        "return soft_str(s).capitalize()",
        "return soft_str(s).upper()",
    ),
    Mutation(
        "jinja2",
        "DEFAULT_POLICIES['urlize.rel'] (copied into every Environment)",
        "module constant",
        "src/jinja2/defaults.py",
        '"urlize.rel": "noopener",',
        '"urlize.rel": "noopener x",',
    ),
    Mutation(
        "jinja2",
        "lexer.operators loses '//' (read through operator_re)",
        "derived constant",
        "src/jinja2/lexer.py",
        '    "//": TOKEN_FLOORDIV,\n',
        "",
    ),
    Mutation(
        "jinja2",
        "nodes.FloorDiv.operator (constant folding)",
        "class attribute",
        "src/jinja2/nodes.py",
        'operator = "//"',
        'operator = "/"',
    ),
    Mutation(
        "jinja2",
        "res/templates/test.html (read by FileSystemLoader and PackageLoader)",
        "data file",
        "tests/res/templates/test.html",
        "BAR",
        "BAZ",
    ),
    Mutation(
        "jinja2",
        "a comment in filters.py (no test can break)",
        "comment only",
        "src/jinja2/filters.py",
        "# No async do_last, it may not be safe in async mode.",
        "# No async do_last: it may not be safe in async mode.",
        breaks=False,
    ),
    # starlette: Response's class attributes are inherited by every response class and read by
    # its methods; the test modules make responses and routes at import.
    Mutation(
        "starlette",
        "Response.charset 'utf-8' -> 'latin-1' (every text response inherits it)",
        "class attribute",
        "starlette/responses.py",
        '    charset = "utf-8"',
        '    charset = "latin-1"',
    ),
    Mutation(
        "starlette",
        "JSONResponse.media_type 'application/json' -> 'application/x-json' (no test checks it)",
        "class attribute",
        "starlette/responses.py",
        '    media_type = "application/json"',
        '    media_type = "application/x-json"',
        breaks=False,
    ),
    Mutation(
        "starlette",
        "PlainTextResponse.media_type 'text/plain' -> 'text/x-plain' (read by Response.init_headers)",
        "class attribute",
        "starlette/responses.py",
        '    media_type = "text/plain"',
        '    media_type = "text/x-plain"',
    ),
    Mutation(
        "starlette",
        "FileResponse.max_ranges 100 -> 1 (read as cls.max_ranges)",
        "class attribute",
        "starlette/responses.py",
        "    max_ranges = 100",
        "    max_ranges = 1",
    ),
    Mutation(
        "starlette",
        "GZipResponder.content_encoding 'gzip' -> 'x-gzip'",
        "class attribute",
        "starlette/middleware/gzip.py",
        '    content_encoding = "gzip"',
        '    content_encoding = "x-gzip"',
    ),
    Mutation(
        "starlette",
        "IntegerConvertor.regex loses 5-9 (instances made at import, read by compile_path)",
        "class attribute",
        "starlette/convertors.py",
        '    regex = "[0-9]+"',
        '    regex = "[0-4]+"',
    ),
    Mutation(
        "starlette",
        "cors.ALL_METHODS loses PATCH (module-level tuple)",
        "module constant",
        "starlette/middleware/cors.py",
        '"OPTIONS", "PATCH", "POST"',
        '"OPTIONS", "POST"',
    ),
    # h11: its tests live in the package; _abnf.py builds its grammar with format(**globals()).
    Mutation(
        "h11",
        "get_comma_header stops lower-casing values",
        "function body",
        "h11/_headers.py",
        "found_raw_value = found_raw_value.lower()",
        "found_raw_value = found_raw_value",
    ),
    Mutation(
        "h11",
        "_abnf.OWS loses the tab (read through format(**globals()) into the readers' regexes)",
        "module constant",
        "h11/_abnf.py",
        'OWS = r"[ \\t]*"',
        'OWS = r"[ ]*"',
    ),
    Mutation(
        "h11",
        "Request.__slots__ loses http_version",
        "class attribute",
        "h11/_events.py",
        '__slots__ = ("method", "headers", "target", "http_version")',
        '__slots__ = ("method", "headers", "target")',
    ),
    Mutation(
        "h11",
        "a comment in _abnf.py (no test can break)",
        "comment only",
        "h11/_abnf.py",
        "#                 ; optional whitespace",
        "#                 ; optional white space",
        breaks=False,
    ),
)
