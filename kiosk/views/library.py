"""(being built)"""

from flask import Blueprint

bp = Blueprint("library", __name__)
