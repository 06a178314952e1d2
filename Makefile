# latentstudio — two commands do all set-up on a fresh Debian machine:
#   make demo   (venv, install, Debian assets, run every system offline, write out/demo/index.html)
#   make test   (venv, install, Debian assets, fast test tier)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := hydrogen-data hydrogen-drumkits lmms-common sonic-pi-samples tuxpaint-stamps-default fortunes \
                dataset-fashion-mnist fluidsynth fluid-soundfont-gm espeak-ng wordnet-base sound-theme-freedesktop mma \
                chromium chromium-driver
# training and bench only (`make data`), never `make test`: the soundscape library's big sound-effect packages;
# the other MIDI synthesisers (DJ beat network: OPL3 FM for training, freepats/timidity for validation, the
# csound GM bank for the test split; drum classifier: OPL3's kit trains, csound's and freepats' kits validate);
# the Learning-to-See worlds' desktop-background photographs
DATA_PACKAGES := wesnoth-1.16-data openttd-opensfx supertux-data warzone2100-data \
                 timidity freepats opl3-soundfont csound-soundfont \
                 mate-backgrounds plasma-workspace-wallpapers lomiri-wallpapers-16.04
export OMP_NUM_THREADS ?= 2

.PHONY: all install apt data test test-all demo bench clean

all: test

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[web,test,gan,cluster]'
	@touch $(STAMP)

install: $(STAMP)

data: APT_PACKAGES += $(DATA_PACKAGES)
data: apt $(STAMP)
	$(PY) -m pip install --quiet -e '.[web,test,gan,cluster,data]'

apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian asset packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "missing Debian asset packages; run:  sudo apt-get install -y$$missing"; \
	  fi; \
	fi

test: apt $(STAMP)
	$(PY) -m pytest -p no:cacheprovider

test-all: apt $(STAMP)
	$(PY) -m pytest -p no:cacheprovider -m ""

demo: apt $(STAMP)
	$(VENV)/bin/latentstudio demo -o out/demo

bench: data $(STAMP)
	$(PY) -m bench all

clean:
	rm -rf out .pytest_cache
