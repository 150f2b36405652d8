/* gst-voicecall: RAII owners for GLib and GStreamer references.
 *
 * Every reference held by element code has a visible owner:
 *
 *   auto caps = vc::adopt (gst_caps_new_empty_simple ("audio/x-raw"));  // takes a full ref
 *   auto pad  = vc::adopt (gst_element_get_static_pad (e, "src"));      // transfer full
 *   auto elem = vc::ref_sink (gst_element_factory_make ("queue", NULL)); // sinks a floating ref
 *   auto peer = vc::ref (some_borrowed_pointer);                          // takes a new ref
 *   gst_bin_add (bin, elem.release ());                                   // hands the ref on
 *
 * adopt() is for transfer-full, non-floating references and warns on a floating one;
 * ref_sink() is for newly created floating objects; ref() adds a reference.
 *
 * vc::GUnique<T> owns plain allocations that are freed, not unreffed (gchar *, GError,
 * GstStructure, GstSDPMessage, ...).
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <memory>
#include <utility>

namespace vc {

/* How a type is referenced. The default is GObject; mini objects are listed below. */
template <typename T> struct RefTraits {
  static T *ref (T *p) { return static_cast<T *> (g_object_ref (p)); }
  static T *ref_sink (T *p) { return static_cast<T *> (g_object_ref_sink (p)); }
  static void unref (T *p) { g_object_unref (p); }
  static bool is_floating (T *p) { return g_object_is_floating (p); }
};

#define VC_MINI_OBJECT_TRAITS(Type)                                              \
  template <> struct RefTraits<Type> {                                           \
    static Type *ref (Type *p)                                                   \
    { return reinterpret_cast<Type *> (gst_mini_object_ref (GST_MINI_OBJECT_CAST (p))); } \
    static Type *ref_sink (Type *p) { return ref (p); }                          \
    static void unref (Type *p) { gst_mini_object_unref (GST_MINI_OBJECT_CAST (p)); } \
    static bool is_floating (Type *) { return false; }                           \
  };

VC_MINI_OBJECT_TRAITS (GstCaps)
VC_MINI_OBJECT_TRAITS (GstBuffer)
VC_MINI_OBJECT_TRAITS (GstEvent)
VC_MINI_OBJECT_TRAITS (GstMessage)
VC_MINI_OBJECT_TRAITS (GstQuery)
VC_MINI_OBJECT_TRAITS (GstPromise)
VC_MINI_OBJECT_TRAITS (GstSample)
#undef VC_MINI_OBJECT_TRAITS

#define VC_PLAIN_REF_TRAITS(Type, ref_fn, unref_fn)                              \
  template <> struct RefTraits<Type> {                                           \
    static Type *ref (Type *p) { return ref_fn (p); }                            \
    static Type *ref_sink (Type *p) { return ref_fn (p); }                       \
    static void unref (Type *p) { unref_fn (p); }                                \
    static bool is_floating (Type *) { return false; }                           \
  };

VC_PLAIN_REF_TRAITS (GMainContext, g_main_context_ref, g_main_context_unref)
VC_PLAIN_REF_TRAITS (GMainLoop, g_main_loop_ref, g_main_loop_unref)
VC_PLAIN_REF_TRAITS (GSource, g_source_ref, g_source_unref)
VC_PLAIN_REF_TRAITS (GBytes, g_bytes_ref, g_bytes_unref)
VC_PLAIN_REF_TRAITS (GHashTable, g_hash_table_ref, g_hash_table_unref)
#undef VC_PLAIN_REF_TRAITS

/* A shared owner of one reference. Copying takes another reference. */
template <typename T> class GstPtr {
public:
  GstPtr () = default;
  GstPtr (std::nullptr_t) {}
  GstPtr (const GstPtr &o) : ptr_ (o.ptr_ ? RefTraits<T>::ref (o.ptr_) : nullptr) {}
  GstPtr (GstPtr &&o) noexcept : ptr_ (std::exchange (o.ptr_, nullptr)) {}
  ~GstPtr () { reset (); }

  GstPtr &operator= (GstPtr o) noexcept { std::swap (ptr_, o.ptr_); return *this; }

  /* Takes over a full, non-floating reference. */
  static GstPtr adopt (T *p)
  {
    if (p && RefTraits<T>::is_floating (p)) {
      g_warning ("vc::adopt() of a floating reference: use vc::ref_sink()");
      RefTraits<T>::ref_sink (p);
    }
    GstPtr r; r.ptr_ = p; return r;
  }
  /* Sinks a floating reference, or adds one. */
  static GstPtr ref_sink (T *p)
  { GstPtr r; r.ptr_ = p ? RefTraits<T>::ref_sink (p) : nullptr; return r; }
  /* Adds a reference to a borrowed pointer. */
  static GstPtr ref (T *p)
  { GstPtr r; r.ptr_ = p ? RefTraits<T>::ref (p) : nullptr; return r; }

  T *get () const { return ptr_; }
  T *operator-> () const { return ptr_; }
  explicit operator bool () const { return ptr_ != nullptr; }
  /* Gives the reference away (transfer full) and forgets it. */
  T *release () { return std::exchange (ptr_, nullptr); }
  void reset ()
  {
    if (T *p = std::exchange (ptr_, nullptr))
      RefTraits<T>::unref (p);
  }
  /* For out-parameters of transfer-full getters: g_object_get (o, "x", ptr.out (), NULL). */
  T **out () { reset (); return &ptr_; }

  bool operator== (const GstPtr &o) const { return ptr_ == o.ptr_; }
  bool operator!= (const GstPtr &o) const { return ptr_ != o.ptr_; }

private:
  T *ptr_ = nullptr;
};

template <typename T> GstPtr<T> adopt (T *p) { return GstPtr<T>::adopt (p); }
template <typename T> GstPtr<T> ref_sink (T *p) { return GstPtr<T>::ref_sink (p); }
template <typename T> GstPtr<T> ref (T *p) { return GstPtr<T>::ref (p); }

/* Owners of plain allocations. */
template <typename T> struct FreeFunc;
#define VC_FREE_FUNC(Type, fn) \
  template <> struct FreeFunc<Type> { void operator() (Type *p) const { fn (p); } };
VC_FREE_FUNC (gchar, g_free)
VC_FREE_FUNC (gchar *, g_strfreev)
VC_FREE_FUNC (GError, g_error_free)
VC_FREE_FUNC (GstStructure, gst_structure_free)
VC_FREE_FUNC (GstSDPMessage, gst_sdp_message_free)
VC_FREE_FUNC (GstWebRTCSessionDescription, gst_webrtc_session_description_free)
VC_FREE_FUNC (GstIterator, gst_iterator_free)
VC_FREE_FUNC (GRand, g_rand_free)
#undef VC_FREE_FUNC

template <typename T> using GUnique = std::unique_ptr<T, FreeFunc<T>>;

/* GError out-parameter helper: GUnique<GError> err; f (..., vc::out (err)); */
struct ErrorOut {
  GUnique<GError> &owner;
  GError *raw = nullptr;
  ~ErrorOut () { if (raw) owner.reset (raw); }
  operator GError ** () { return &raw; }
};
inline ErrorOut out (GUnique<GError> &e) { return ErrorOut {e}; }

inline GUnique<gchar> take_string (gchar *s) { return GUnique<gchar> (s); }

} // namespace vc
