/* gst-voicecall tests: generic checks of the properties an element defines itself.
 *
 *   auto names = vc::test::check_own_properties ("voicecall", {"signaller"});
 *
 * For every property the element's type installs (not those of GstBin/GstObject):
 *  - a new element reports the registry's default (strings: NULL and "" are both "unset");
 *  - a value that is set reads back: booleans both ways, numbers at both ends of the range,
 *    every value of an enum, a sample string. Objects are only checked for readability.
 * Each check runs on a fresh element. Returns the names of the properties, so that a test can
 * also insist on the ones it checks in detail. Header-only: include it from a gstcheck test. */
#pragma once

#include "gstptr.h"

#include <gst/check/gstcheck.h>

#include <set>
#include <string>
#include <vector>

namespace vc::test {

inline bool
same_value (const GValue *a, const GValue *b)
{
  if (G_VALUE_HOLDS_STRING (a) && G_VALUE_HOLDS_STRING (b)) {
    const char *x = g_value_get_string (a), *y = g_value_get_string (b);
    return g_strcmp0 (x ? x : "", y ? y : "") == 0;
  }
  return gst_value_compare (a, b) == GST_VALUE_EQUAL;
}

inline std::string
describe (const GValue *v)
{
  GUnique<gchar> s (gst_value_serialize (v));
  return s ? s.get () : "(unserializable)";
}

/* Values to set for a round trip, by parameter type. */
inline std::vector<GValue>
sample_values (GParamSpec *spec)
{
  std::vector<GValue> values;
  auto add = [&values, spec] (auto setter) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, spec->value_type);
    setter (&v);
    values.push_back (v);
  };
  if (G_IS_PARAM_SPEC_BOOLEAN (spec)) {
    add ([] (GValue *v) { g_value_set_boolean (v, TRUE); });
    add ([] (GValue *v) { g_value_set_boolean (v, FALSE); });
  } else if (G_IS_PARAM_SPEC_INT (spec)) {
    auto *p = G_PARAM_SPEC_INT (spec);
    for (gint x : {p->minimum, p->maximum, p->default_value})
      add ([x] (GValue *v) { g_value_set_int (v, x); });
  } else if (G_IS_PARAM_SPEC_UINT (spec)) {
    auto *p = G_PARAM_SPEC_UINT (spec);
    for (guint x : {p->minimum, p->maximum, p->default_value})
      add ([x] (GValue *v) { g_value_set_uint (v, x); });
  } else if (G_IS_PARAM_SPEC_INT64 (spec)) {
    auto *p = G_PARAM_SPEC_INT64 (spec);
    for (gint64 x : {p->minimum, p->maximum, p->default_value})
      add ([x] (GValue *v) { g_value_set_int64 (v, x); });
  } else if (G_IS_PARAM_SPEC_UINT64 (spec)) {
    auto *p = G_PARAM_SPEC_UINT64 (spec);
    for (guint64 x : {p->minimum, p->maximum, p->default_value})
      add ([x] (GValue *v) { g_value_set_uint64 (v, x); });
  } else if (G_IS_PARAM_SPEC_DOUBLE (spec)) {
    auto *p = G_PARAM_SPEC_DOUBLE (spec);
    for (gdouble x : {p->minimum, p->maximum, p->default_value})
      add ([x] (GValue *v) { g_value_set_double (v, x); });
  } else if (G_IS_PARAM_SPEC_ENUM (spec)) {
    GEnumClass *klass = G_PARAM_SPEC_ENUM (spec)->enum_class;
    for (guint i = 0; i < klass->n_values; i++) {
      gint x = klass->values[i].value;
      add ([x] (GValue *v) { g_value_set_enum (v, x); });
    }
  } else if (G_IS_PARAM_SPEC_STRING (spec)) {
    add ([] (GValue *v) { g_value_set_string (v, "127.0.0.1:1"); });
    add ([] (GValue *v) { g_value_set_string (v, ""); });
  }
  return values;
}

inline std::set<std::string>
check_own_properties (const char *factory, const std::set<std::string> &no_round_trip = {})
{
  auto make = [factory] {
    GstElement *e = gst_element_factory_make (factory, nullptr);
    fail_unless (e != nullptr, "%s is not registered", factory);
    return ref_sink (e);
  };
  GstPtr<GstElement> element = make ();
  GType type = G_OBJECT_TYPE (element.get ());
  guint n = 0;
  GParamSpec **specs = g_object_class_list_properties (G_OBJECT_GET_CLASS (element.get ()), &n);
  std::set<std::string> names;
  for (guint i = 0; i < n; i++) {
    GParamSpec *spec = specs[i];
    if (spec->owner_type != type || !(spec->flags & G_PARAM_READABLE))
      continue;
    names.insert (spec->name);

    GValue have = G_VALUE_INIT;
    g_value_init (&have, spec->value_type);
    g_object_get_property (G_OBJECT (element.get ()), spec->name, &have);
    if (!G_IS_PARAM_SPEC_OBJECT (spec)) {
      GValue want = G_VALUE_INIT;
      g_value_init (&want, spec->value_type);
      g_param_value_set_default (spec, &want);
      fail_unless (same_value (&have, &want), "%s %s is %s, its documented default is %s",
          factory, spec->name, describe (&have).c_str (), describe (&want).c_str ());
      g_value_unset (&want);
    }
    g_value_unset (&have);

    if (!(spec->flags & G_PARAM_WRITABLE) || no_round_trip.count (spec->name))
      continue;
    GstPtr<GstElement> fresh = make ();
    for (GValue &v : sample_values (spec)) {
      g_object_set_property (G_OBJECT (fresh.get ()), spec->name, &v);
      GValue got = G_VALUE_INIT;
      g_value_init (&got, spec->value_type);
      g_object_get_property (G_OBJECT (fresh.get ()), spec->name, &got);
      fail_unless (same_value (&v, &got), "%s %s: set %s, read back %s", factory, spec->name,
          describe (&v).c_str (), describe (&got).c_str ());
      g_value_unset (&got);
      g_value_unset (&v);
    }
  }
  g_free (specs);
  return names;
}

/* Fails if a property the test covers in detail is gone; prints those it does not know. */
inline void
expect_properties (const char *factory, const std::set<std::string> &have,
    const std::set<std::string> &known)
{
  for (const auto &name : known)
    fail_unless (have.count (name), "%s has no property %s any more", factory, name.c_str ());
  for (const auto &name : have)
    if (!known.count (name))
      g_print ("%s: property %s is checked generically only (default, round trip)\n", factory,
          name.c_str ());
}

} // namespace vc::test
