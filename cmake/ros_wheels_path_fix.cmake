# Copyright 2026 poe_steer_ros contributors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

# Rewrites build-container paths baked into the ROS 2 PyPI wheels' CMake exports.
#
# The Kilted/Jazzy wheels export INTERFACE_INCLUDE_DIRECTORIES such as
# /opt/python/cp311-cp311/include/python3.11, which do not exist outside their build container.
# Included through -DCMAKE_PROJECT_INCLUDE (see scripts/bootstrap.sh), this defers to the end of
# configuration and points those targets at the running interpreter's Python and numpy headers.
# It touches no file on disk and does nothing on an apt-installed ROS 2.
function(_ros_wheels_fix_opt_python)
  get_property(_targets DIRECTORY "${CMAKE_SOURCE_DIR}" PROPERTY IMPORTED_TARGETS)
  set(_python_include "")
  foreach(_target IN LISTS _targets)
    get_target_property(_includes ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(_includes AND "${_includes}" MATCHES "/opt/python/")
      if(NOT _python_include)
        if(Python3_EXECUTABLE)
          set(_python "${Python3_EXECUTABLE}")
        else()
          find_program(_ROS_WHEELS_FIX_PYTHON NAMES python3 python REQUIRED)
          set(_python "${_ROS_WHEELS_FIX_PYTHON}")
        endif()
        execute_process(
          COMMAND "${_python}" -c "import sysconfig; print(sysconfig.get_paths()['include'])"
          OUTPUT_VARIABLE _python_include OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
        execute_process(
          COMMAND "${_python}" -c "import numpy; print(numpy.get_include())"
          OUTPUT_VARIABLE _numpy_include OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
      endif()
      list(TRANSFORM _includes REPLACE "^/opt/python/[^/]+/include/python[0-9.]+$" "${_python_include}")
      list(TRANSFORM _includes REPLACE "^/opt/python/.*/numpy/_core/include$" "${_numpy_include}")
      set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_includes}")
    endif()
  endforeach()
endfunction()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _ros_wheels_fix_opt_python)
