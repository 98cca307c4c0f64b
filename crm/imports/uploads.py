"""Refusing an import file that is too large while it is still being uploaded.

Django writes an upload to a temporary file as it arrives; a 2 GB upload would be
written whole before any view saw it. This handler runs first: a declared size over
IMPORT_MAX_BYTES stops the upload before a byte is read, and a body without a declared
size (chunked) is stopped as soon as it passes the limit. The view then answers with
a field error (`file_too_large`) instead of a file.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, QueryDict
from django.utils.datastructures import MultiValueDict

# Room for the multipart envelope and the other fields around the file.
ENVELOPE_BYTES = 64 * 1024


class ImportUploadLimit(FileUploadHandler):
    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = settings.IMPORT_MAX_BYTES
        self.received = 0
        self.refused = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > self.limit + ENVELOPE_BYTES:
            # "Handled": no fields and no files, and not a byte of the body read.
            self.refused = True
            return QueryDict(encoding=encoding), MultiValueDict()
        return None

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def declared_too_large(request: HttpRequest) -> bool:
    """Whether the request says, before its body is read, that it is over the limit."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > settings.IMPORT_MAX_BYTES + ENVELOPE_BYTES


def limit_uploads(request: HttpRequest) -> ImportUploadLimit:
    """Put the limit in front of the request's upload handlers (before its body is read)."""
    handler = ImportUploadLimit(request)
    request.upload_handlers.insert(0, handler)
    return handler
